// Shared by the route modules: the platform's 401 problem+json.
export const problem = (status, title) => ({
  status,
  headers: { 'content-type': 'application/problem+json' },
  body: { type: 'about:blank', title, status },
});
export const setup = () => ({ routes: {} });

/**
 * Checks and notifications never follow redirects (fetch's `redirect: 'manual'`): a check URL that answers 302 to a
 * login page is not "the app accepts the new secret", and a webhook's 307/308 to another origin must not receive the
 * notification's body again. A redirect is a failed check that says where it pointed.
 */
export const NO_REDIRECT = { redirect: 'manual' } as const satisfies RequestInit;

/** 3xx answers that point somewhere (`Location`); 304 is not a redirect. */
export const isRedirect = (status: number): boolean => status >= 300 && status < 400 && status !== 304;

/**
 * Where a redirect pointed, resolved against the URL asked, without userinfo, query or fragment (either can carry a
 * token: a login page's `?next=` or a signed link). undefined when the answer is not a redirect.
 */
export function redirectTarget(response: Pick<Response, 'status' | 'headers'>, asked: string): string | undefined {
  if (!isRedirect(response.status)) return undefined;
  const location = response.headers.get('location');
  if (!location) return '(no Location header)';
  try {
    const url = new URL(location, asked);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(a Location that is not a URL)';
  }
}

/** The words a check prints for a redirect: `answered 302, a redirect to https://login.example.com/sso (not followed)`. */
export function redirectText(response: Pick<Response, 'status' | 'headers'>, asked: string): string | undefined {
  const target = redirectTarget(response, asked);
  return target === undefined ? undefined : `answered ${response.status}, a redirect to ${target} (not followed)`;
}

/** Same scheme, host and port. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

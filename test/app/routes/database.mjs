// PostgreSQL like the platform: GET /api/health/ready runs SELECT 1 and answers 503 when the database fails. It
// opens a FRESH connection with DATABASE_URL (read once at start) each time, so it proves the credentials in the
// env file work for a new login, not that an old pooled session survived a password change.

/** node-postgres does not know SQLAlchemy's driver suffix: postgresql+asyncpg:// -> postgresql:// */
const forNodePostgres = (url) => url.replace(/^(postgres(?:ql)?)\+[A-Za-z0-9_]+:\/\//, '$1://');

export async function setup(env) {
  if (!env.DATABASE_URL) return { routes: {} };
  // Loaded only when used: every restart of the app pays for what it imports.
  const { default: pg } = await import('pg');
  const connectionString = forNodePostgres(env.DATABASE_URL);
  return {
    routes: {
      'GET /api/health/ready': async () => {
        const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.query('SELECT 1');
          return { status: 200, body: { status: 'ready', database: 'ok' } };
        } catch (error) {
          // The SQLSTATE only: the server's message is safe, but the URL must never reach a response.
          return { status: 503, body: { status: 'not ready', database: error?.code ?? 'unreachable' } };
        } finally {
          await client.end().catch(() => {});
        }
      },
    },
  };
}

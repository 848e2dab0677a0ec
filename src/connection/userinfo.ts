// Percent-encoding for the credentials of connection URLs (PostgreSQL and Redis), as the platform's drivers read them.

/**
 * Decodes each valid `%XX` run as UTF-8 and leaves a stray `%` as written, like Python's `unquote` (asyncpg,
 * psycopg, SQLAlchemy, redis-py); node-postgres and ioredis agree on every input whose escapes are valid.
 */
export function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

/** Percent-encodes for a userinfo: everything but RFC 3986 unreserved characters. */
export const encodeUserinfo = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

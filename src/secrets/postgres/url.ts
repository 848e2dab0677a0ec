import { markSecret } from '../../secret-value.js';

/**
 * A PostgreSQL connection URL split so that only the credentials change: `scheme://user:password@rest`, where
 * `rest` (host, port, database, query string) is kept byte for byte. The scheme keeps a driver suffix such as
 * `postgresql+asyncpg`.
 */
export interface DatabaseUrl {
  /** `postgresql`, `postgres`, `postgresql+asyncpg`, ... (without `://`). */
  scheme: string;
  user: string;
  password: string | undefined;
  /** Everything after the credentials: `host:port/db?query`. */
  rest: string;
  host: string;
  port: number;
  database: string | undefined;
}

const SCHEME = /^(postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?):\/\/(.*)$/s;

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray `%` that is not an escape: libpq would refuse it too, keep it as written
  }
};

/** Parses a database URL; undefined when it is not a postgres URL. The password is registered with `markSecret`. */
export function parseDatabaseUrl(text: string): DatabaseUrl | undefined {
  const match = SCHEME.exec(text.trim());
  if (!match) return undefined;
  const scheme = match[1]!;
  const after = match[2]!;
  // Like libpq: credentials end at the first `@` seen before any `/`.
  let at = -1;
  for (let i = 0; i < after.length; i++) {
    if (after[i] === '/') break;
    if (after[i] === '@') {
      at = i;
      break;
    }
  }
  const userinfo = at >= 0 ? after.slice(0, at) : '';
  const rest = at >= 0 ? after.slice(at + 1) : after;
  const colon = userinfo.indexOf(':');
  const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
  const password = colon >= 0 ? decode(userinfo.slice(colon + 1)) : undefined;
  if (password !== undefined) {
    markSecret(password);
    markSecret(userinfo.slice(colon + 1));
  }
  const hostPart = /^(\[[^\]]*\]|[^:/?#]*)(?::(\d+))?/.exec(rest);
  const host = (hostPart?.[1] ?? '').replace(/^\[|\]$/g, '');
  const port = hostPart?.[2] ? Number(hostPart[2]) : 5432;
  const path = /^[^/?#]*\/([^?#]*)/.exec(rest)?.[1];
  return { scheme, user, password, rest, host, port, database: path ? decode(path) : undefined };
}

/** Percent-encodes for the userinfo part: everything but RFC 3986 unreserved characters. */
export const encodeUserinfo = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The same URL with other credentials; the scheme, host, port, database and query string are unchanged. */
export function withCredentials(url: DatabaseUrl, user: string, password: string): string {
  return `${url.scheme}://${encodeUserinfo(user)}:${encodeUserinfo(password)}@${url.rest}`;
}

/** The URL node-postgres understands: the driver suffix (`+asyncpg`) dropped, credentials re-encoded. */
export function libpqUrl(url: DatabaseUrl, user = url.user, password = url.password): string {
  const creds = password === undefined ? encodeUserinfo(user) : `${encodeUserinfo(user)}:${encodeUserinfo(password)}`;
  return `postgresql://${creds}@${url.rest}`;
}

/** Where a URL points, for messages: never the credentials. */
export const describeTarget = (url: DatabaseUrl): string =>
  `${url.user}@${url.host || 'localhost'}:${url.port}/${url.database ?? url.user}`;

const ASYNCPG_SSL: Record<string, boolean | { rejectUnauthorized: boolean }> = {
  disable: false,
  allow: { rejectUnauthorized: false },
  prefer: { rejectUnauthorized: false },
  require: { rejectUnauthorized: false },
  'verify-ca': true,
  'verify-full': true,
};

/**
 * asyncpg spells libpq's `sslmode` as `ssl=<mode>`, which node-postgres would misread: the URL without that
 * parameter, and the TLS option it means.
 */
export function splitAsyncpgSsl(url: DatabaseUrl): { url: DatabaseUrl; ssl?: boolean | { rejectUnauthorized: boolean } } {
  const q = url.rest.indexOf('?');
  if (q < 0) return { url };
  const params = url.rest.slice(q + 1).split('&');
  const index = params.findIndex((p) => /^ssl=/.test(p) && decodeURIComponent(p.slice(4)) in ASYNCPG_SSL);
  if (index < 0) return { url };
  const ssl = ASYNCPG_SSL[decodeURIComponent(params[index]!.slice(4))];
  params.splice(index, 1);
  const rest = url.rest.slice(0, q) + (params.length > 0 ? `?${params.join('&')}` : '');
  return { url: { ...url, rest }, ...(ssl === undefined ? {} : { ssl }) };
}

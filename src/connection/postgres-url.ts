// A PostgreSQL connection URL, parsed once the way the platform's drivers read it, and every node-postgres
// connection built from the parsed fields. Used by the database rotator, exchange-key, the postgres store and tests.
//
// Parsing (node-postgres' WHATWG URL, asyncpg/psycopg's urllib and SQLAlchemy agree on this): the authority ends at
// the first `/`, `?` or `#` after `//`; the credentials end at the LAST `@` in it (so a raw `@` in a password
// works); user and password split at the first `:`; both are percent-decoded. A driver suffix (`+asyncpg`,
// `+psycopg`) stays in the scheme so a rewritten URL keeps it; asyncpg's `?ssl=<mode>` is honoured everywhere.
import type pg from 'pg';
import { usageError } from '../errors.js';
import { markSecret } from '../secret-value.js';
import { encodeUserinfo, percentDecode } from './userinfo.js';

export interface PostgresUrl {
  /** `postgresql`, `postgres`, `postgresql+asyncpg`, ... as written (without `://`). */
  scheme: string;
  /** Decoded user name; `''` when the URL names none. */
  user: string;
  /** Decoded password; undefined when the URL has none. */
  password: string | undefined;
  /** The user name exactly as written (kept when a rewrite keeps the user). */
  userRaw: string;
  /** Everything after the credentials (`host:port/db?query#fragment`), byte for byte. */
  rest: string;
  /** Decoded host without IPv6 brackets; `''` when the URL names none (node-postgres then uses localhost). */
  host: string;
  port: number;
  database: string | undefined;
  /** Decoded query parameters in order. */
  query: [string, string][];
}

const SCHEME = /^(postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?):\/\/(.*)$/is;

/** Query parameters that would replace the credentials rotate reads from the userinfo (libpq and node-postgres). */
const CREDENTIAL_PARAMS = new Set(['user', 'password', 'passfile', 'service']);

function parseQuery(text: string): [string, string][] {
  if (text === '') return [];
  return text
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      return [percentDecode(key.replace(/\+/g, ' ')), percentDecode(value.replace(/\+/g, ' '))];
    });
}

/**
 * Parses a PostgreSQL URL; undefined when it is not one (another scheme, or a port that is not a number: what a raw
 * `/`, `?` or `#` in a password produces). The password (decoded and as written) is registered with `markSecret`.
 */
export function parsePostgresUrl(text: string): PostgresUrl | undefined {
  const match = SCHEME.exec(text);
  if (!match) return undefined;
  const scheme = match[1]!;
  const after = match[2]!;
  const end = after.search(/[/?#]/);
  const authority = end < 0 ? after : after.slice(0, end);
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : '';
  const rest = at >= 0 ? after.slice(at + 1) : after;
  const colon = userinfo.indexOf(':');
  const userRaw = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
  const passwordRaw = colon >= 0 ? userinfo.slice(colon + 1) : undefined;
  const password = passwordRaw === undefined ? undefined : percentDecode(passwordRaw);
  if (password !== undefined && passwordRaw !== undefined) {
    markSecret(password);
    markSecret(passwordRaw);
  }
  const hostPort = authority.slice(at + 1);
  const hostMatch = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d*))?$/.exec(hostPort);
  if (!hostMatch) return undefined;
  const port = hostMatch[2] ? Number(hostMatch[2]) : 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const tail = end < 0 ? '' : after.slice(end);
  const hash = tail.indexOf('#');
  const beforeHash = hash < 0 ? tail : tail.slice(0, hash);
  const q = beforeHash.indexOf('?');
  const path = (q < 0 ? beforeHash : beforeHash.slice(0, q)).replace(/^\//, '');
  const query = parseQuery(q < 0 ? '' : beforeHash.slice(q + 1));
  // As in libpq and node-postgres, `?host=` and `?port=` win over the authority (a Unix socket folder, say).
  const param = (name: string) => query.find(([key]) => key === name)?.[1];
  const queryPort = param('port');
  return {
    scheme,
    user: percentDecode(userRaw),
    password,
    userRaw,
    rest,
    host: param('host') ?? percentDecode(hostMatch[1]!.replace(/^\[|\]$/g, '')),
    port: queryPort !== undefined && /^\d+$/.test(queryPort) ? Number(queryPort) : port,
    database: path === '' ? undefined : percentDecode(path),
    query,
  };
}

/** Query parameters of `url` that would override its credentials (`?password=`, `?user=`, ...). */
export const credentialOverrides = (url: PostgresUrl): string[] =>
  url.query.map(([key]) => key).filter((key) => CREDENTIAL_PARAMS.has(key.toLowerCase()));

/** Refuses (exit 2) a URL whose query would replace its credentials; `where` names the value (an env key). */
export function refuseCredentialOverrides(url: PostgresUrl, where: string): void {
  const keys = credentialOverrides(url);
  if (keys.length === 0) return;
  throw usageError(
    'DATABASE_URL_CREDENTIAL_OVERRIDE',
    `${where} carries ${keys.map((k) => `\`${k}=\``).join(', ')} in its query string, which overrides the user or password before it`,
    'Put the user and password in the userinfo (postgresql://user:password@host/db) and remove them from the query string.',
  );
}

/** C0 and C1 control characters (newline, tab, escape, ...): no real role name holds one. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Refuses (exit 2) a role name with a control character: printed in SQL comments, logs or a terminal, a newline in
 * a name is a line of its own (`b\nCREATE TABLE pwn();--`). `where` names the value (an env key, a config path).
 */
export function refuseUnsafeRoleName(name: string, where: string): void {
  if (!CONTROL_CHARACTER.test(name)) return;
  throw usageError(
    'POSTGRES_ROLE_NAME_INVALID',
    `the role name in ${where} holds a control character (a newline, tab or escape)`,
    'Use a role name of printable characters; fix the user in the URL or the name in the config.',
  );
}

/** The same URL with other credentials; scheme, host, port, database, query and fragment keep their bytes. */
export function withCredentials(url: PostgresUrl, user: string, password: string): string {
  const userPart = user === url.user ? url.userRaw : encodeUserinfo(user);
  const encoded = encodeUserinfo(password);
  markSecret(encoded);
  return `${url.scheme}://${userPart}:${encoded}@${url.rest}`;
}

/** Where a URL points, for messages: never the credentials. */
export const describeTarget = (url: PostgresUrl): string =>
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
 * node-postgres options for a NEW connection to `url` as `credentials` (default: the URL's own). Host, port,
 * database and credentials come from the parsed fields (handed to node-postgres as query parameters, which it reads
 * verbatim, so no character of a password can be misread); the other parameters (`sslmode`, `options`, ...) keep
 * node-postgres' meaning; asyncpg's `ssl=<mode>` becomes the TLS option it means.
 */
export function clientConfig(
  url: PostgresUrl,
  credentials: { user: string; password: string | undefined } = { user: url.user, password: url.password },
): pg.ClientConfig {
  const params = new URLSearchParams();
  let ssl: boolean | { rejectUnauthorized: boolean } | undefined;
  for (const [key, value] of url.query) {
    if (CREDENTIAL_PARAMS.has(key.toLowerCase()) || key === 'host' || key === 'port') continue;
    if (key === 'ssl' && value in ASYNCPG_SSL) {
      ssl = ASYNCPG_SSL[value];
      continue;
    }
    params.append(key, value);
  }
  if (url.host) params.set('host', url.host);
  params.set('port', String(url.port));
  if (credentials.user) params.set('user', credentials.user);
  if (credentials.password !== undefined && credentials.password !== '') params.set('password', credentials.password);
  // node-postgres reads the path with decodeURI, which leaves `%3F` and `%23` encoded: a database named with `?`
  // or `#` cannot be reached through it (nor through libpq's URL form) either way.
  const path = url.database === undefined ? '' : encodeURI(url.database).replace(/[?#]/g, encodeURIComponent);
  return { connectionString: `postgresql:///${path}?${params.toString()}`, ...(ssl === undefined ? {} : { ssl }) };
}

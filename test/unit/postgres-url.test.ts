import fc from 'fast-check';
import { parse as pgParse } from 'pg-connection-string';
import { describe, expect, it } from 'vitest';
import {
  clientConfig,
  credentialOverrides,
  describeTarget,
  parsePostgresUrl,
  refuseCredentialOverrides,
  withCredentials,
} from '../../src/connection/postgres-url.js';

/** What node-postgres itself connects with, given rotate's options for `url`. */
const asNodePostgresSees = (text: string, credentials?: { user: string; password: string | undefined }) => {
  const config = clientConfig(parsePostgresUrl(text)!, credentials);
  return { ...pgParse(config.connectionString!), ...(config.ssl === undefined ? {} : { tls: config.ssl }) };
};

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
/** Printable passwords an env file can carry unencoded: no `/`, `?`, `#` (they end the authority for every driver). */
const rawPassword = printable.filter((p) => !/[/?#]/.test(p) && !/%[0-9A-Fa-f]{2}/.test(p));
const anyPassword = fc.oneof(printable, fc.string({ unit: 'grapheme', maxLength: 30 }));

describe('parsePostgresUrl', () => {
  it('reads the platform URL with its driver suffix', () => {
    const url = parsePostgresUrl('postgresql+asyncpg://app:s3cret@db.internal:6543/cryptoorchestrator?ssl=require');
    expect(url).toMatchObject({
      scheme: 'postgresql+asyncpg',
      user: 'app',
      password: 's3cret',
      host: 'db.internal',
      port: 6543,
      database: 'cryptoorchestrator',
      rest: 'db.internal:6543/cryptoorchestrator?ssl=require',
      query: [['ssl', 'require']],
    });
  });

  it('splits the credentials at the LAST @ of the authority, as node-postgres, asyncpg and SQLAlchemy do', () => {
    const url = parsePostgresUrl('postgresql://app:Old@Secret99@host/db');
    expect(url).toMatchObject({ user: 'app', password: 'Old@Secret99', host: 'host', port: 5432, database: 'db' });
    expect(parsePostgresUrl('postgresql://a:p:w@x@h:1/d?o=a@b')).toMatchObject({ user: 'a', password: 'p:w@x', host: 'h', port: 1 });
  });

  it('decodes percent-encoded credentials, leaves a stray % as written, and defaults the port', () => {
    expect(parsePostgresUrl('postgres://us%40er:p%40ss%2Fw%3Ard@localhost/db')).toMatchObject({
      user: 'us@er',
      password: 'p@ss/w:rd',
      port: 5432,
      host: 'localhost',
    });
    expect(parsePostgresUrl('postgres://u:100%zz%41@h/d')?.password).toBe('100%zzA');
  });

  it('handles IPv6 hosts, missing passwords, query hosts and non-postgres URLs', () => {
    expect(parsePostgresUrl('postgresql://u:p@[::1]:5433/d')).toMatchObject({ host: '::1', port: 5433 });
    expect(parsePostgresUrl('postgresql://u@h/d')?.password).toBeUndefined();
    expect(parsePostgresUrl('postgresql://u:p@/d?host=/var/run/postgresql')).toMatchObject({ host: '/var/run/postgresql' });
    expect(parsePostgresUrl('redis://:p@h:6379/0')).toBeUndefined();
    expect(parsePostgresUrl('mysql://u:p@h/d')).toBeUndefined();
    // A raw `/` in a password ends the authority for every driver: not a URL rotate (or the app) can use.
    expect(parsePostgresUrl('postgresql://u:pa/ss@h/d')).toBeUndefined();
  });

  it('describes a target without the password', () => {
    expect(describeTarget(parsePostgresUrl('postgresql://app:hunter2-secret@h:5432/db')!)).toBe('app@h:5432/db');
  });
});

describe('credential overrides in the query', () => {
  it('finds user=, password=, passfile= and service= and refuses them as a usage error naming the key only', () => {
    expect(credentialOverrides(parsePostgresUrl('postgresql://a:b@h/d?sslmode=require')!)).toEqual([]);
    const url = parsePostgresUrl('postgresql://a:b@h/d?password=hunter2-other&user=root&PassFile=x')!;
    expect(credentialOverrides(url)).toEqual(['password', 'user', 'PassFile']);
    let error: unknown;
    try {
      refuseCredentialOverrides(url, 'DATABASE_URL in .env');
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'DATABASE_URL_CREDENTIAL_OVERRIDE', exitCode: 2 });
    expect((error as Error).message).toContain('DATABASE_URL in .env');
    expect((error as Error).message).not.toContain('hunter2-other');
  });
});

describe('withCredentials', () => {
  it('keeps scheme, user as written, host, port, database and query byte for byte', () => {
    const old = parsePostgresUrl('postgresql+asyncpg://app:old@db:5432/cryptoorchestrator?sslmode=require&x=%2F')!;
    expect(withCredentials(old, 'app_blue', 'n3w-Pass_word')).toBe(
      'postgresql+asyncpg://app_blue:n3w-Pass_word@db:5432/cryptoorchestrator?sslmode=require&x=%2F',
    );
    const odd = parsePostgresUrl('postgres://%61pp:Old@Secret99@h/d')!;
    expect(withCredentials(odd, 'app', 'new')).toBe('postgres://%61pp:new@h/d');
  });

  it('percent-encodes what a URL cannot carry', () => {
    const old = parsePostgresUrl('postgres://a:b@h/d')!;
    expect(withCredentials(old, 'a', "p@ss:w/rd#?%!'")).toBe('postgres://a:p%40ss%3Aw%2Frd%23%3F%25%21%27@h/d');
  });

  it('parse, rewrite, parse again: same user, host, port, database and query (raw and encoded passwords)', () => {
    const schemes = fc.constantFrom('postgresql', 'postgres', 'postgresql+asyncpg', 'postgresql+psycopg');
    const rests = fc.constantFrom(
      'h/d',
      'db.internal:6543/app?sslmode=require',
      '[::1]:5432/x?a=b&c=%20',
      '127.0.0.1/db?ssl=require&application_name=a@b',
    );
    const users = fc.constantFrom('app', 'app_blue', 'us%40er', 'a.b-c');
    const oldPassword = fc.oneof(
      rawPassword.map((p) => ({ written: p, value: p })),
      anyPassword.map((p) => ({ written: encodeURIComponent(p), value: p })),
    );
    fc.assert(
      fc.property(schemes, users, oldPassword, rests, anyPassword, (scheme, user, old, rest, next) => {
        const before = parsePostgresUrl(`${scheme}://${user}:${old.written}@${rest}`)!;
        expect(before.password).toBe(old.value);
        expect(before.rest).toBe(rest);
        const text = withCredentials(before, before.user, next);
        const after = parsePostgresUrl(text)!;
        expect(after.password).toBe(next);
        const { password: _a, ...sameBefore } = before;
        const { password: _b, ...sameAfter } = after;
        expect(sameAfter).toEqual(sameBefore);
        expect(text.startsWith(`${scheme}://${user}:`)).toBe(true);
        expect(text.endsWith(`@${rest}`)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('clientConfig', () => {
  it('hands node-postgres exactly the parsed fields, whatever the password holds (property)', () => {
    fc.assert(
      fc.property(rawPassword, anyPassword, (raw, other) => {
        const seen = asNodePostgresSees(`postgresql+asyncpg://app:${raw}@db.internal:6543/app_db?sslmode=disable&options=-c%20x%3Dy`);
        expect(seen).toMatchObject({ user: 'app', host: 'db.internal', port: '6543', database: 'app_db', sslmode: 'disable' });
        expect(seen.password ?? '').toBe(raw);
        expect(seen.options).toBe('-c x=y');
        const as = asNodePostgresSees('postgresql://app:x@h/d', { user: 'app_green', password: other });
        expect(as).toMatchObject({ user: 'app_green', host: 'h', database: 'd' });
        expect(as.password ?? '').toBe(other);
      }),
      { numRuns: 300 },
    );
  });

  it("turns asyncpg's ssl=<mode> into a TLS option and ignores credentials and hosts in the query", () => {
    expect(asNodePostgresSees('postgresql+asyncpg://a:b@h/d?ssl=require&x=1')).toMatchObject({
      tls: { rejectUnauthorized: false },
      x: '1',
    });
    expect(asNodePostgresSees('postgresql://a:b@h/d?ssl=disable').tls).toBe(false);
    expect(asNodePostgresSees('postgresql://a:b@/d?host=/tmp/sock')).toMatchObject({ host: '/tmp/sock', user: 'a' });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeTarget, libpqUrl, parseDatabaseUrl, splitAsyncpgSsl, withCredentials } from '../../src/secrets/postgres/url.js';

describe('parseDatabaseUrl', () => {
  it('reads the platform URL with its driver suffix', () => {
    const url = parseDatabaseUrl('postgresql+asyncpg://app:s3cret@db.internal:6543/cryptoorchestrator?ssl=require');
    expect(url).toMatchObject({
      scheme: 'postgresql+asyncpg',
      user: 'app',
      password: 's3cret',
      host: 'db.internal',
      port: 6543,
      database: 'cryptoorchestrator',
      rest: 'db.internal:6543/cryptoorchestrator?ssl=require',
    });
  });

  it('decodes percent-encoded credentials and defaults the port', () => {
    const url = parseDatabaseUrl('postgres://us%40er:p%40ss%2Fw%3Ard@localhost/db');
    expect(url).toMatchObject({ user: 'us@er', password: 'p@ss/w:rd', port: 5432, host: 'localhost', database: 'db' });
  });

  it('handles IPv6 hosts, missing passwords and non-postgres URLs', () => {
    expect(parseDatabaseUrl('postgresql://u:p@[::1]:5433/d')).toMatchObject({ host: '::1', port: 5433 });
    expect(parseDatabaseUrl('postgresql://u@h/d')?.password).toBeUndefined();
    expect(parseDatabaseUrl('redis://:p@h:6379/0')).toBeUndefined();
    expect(parseDatabaseUrl('mysql://u:p@h/d')).toBeUndefined();
  });

  it('describes a target without the password', () => {
    const url = parseDatabaseUrl('postgresql://app:hunter2-secret@h:5432/db')!;
    expect(describeTarget(url)).toBe('app@h:5432/db');
  });
});

describe('withCredentials', () => {
  it('keeps scheme, host, port, database and query byte for byte', () => {
    const old = parseDatabaseUrl('postgresql+asyncpg://app:old@db:5432/cryptoorchestrator?sslmode=require&x=%2F')!;
    expect(withCredentials(old, 'app_blue', 'n3w-Pass_word')).toBe(
      'postgresql+asyncpg://app_blue:n3w-Pass_word@db:5432/cryptoorchestrator?sslmode=require&x=%2F',
    );
  });

  it('percent-encodes what a URL cannot carry', () => {
    const old = parseDatabaseUrl('postgres://a:b@h/d')!;
    expect(withCredentials(old, 'a', "p@ss:w/rd#?%!'")).toBe('postgres://a:p%40ss%3Aw%2Frd%23%3F%25%21%27@h/d');
  });

  it('drops the driver suffix for node-postgres', () => {
    const old = parseDatabaseUrl('postgresql+asyncpg://a:b@h:1/d?q=1')!;
    expect(libpqUrl(old)).toBe('postgresql://a:b@h:1/d?q=1');
  });

  it('round-trips any user and password (property)', () => {
    const schemes = fc.constantFrom('postgresql', 'postgres', 'postgresql+asyncpg', 'postgresql+psycopg');
    const rests = fc.constantFrom('h/d', 'db.internal:6543/app?sslmode=require', '[::1]:5432/x?a=b&c=%20', '127.0.0.1/db');
    fc.assert(
      fc.property(schemes, rests, fc.string(), fc.string({ minLength: 1 }), fc.string(), (scheme, rest, user, pw, old) => {
        const base = parseDatabaseUrl(`${scheme}://u:${encodeURIComponent(old)}@${rest}`)!;
        const text = withCredentials(base, user, pw);
        const back = parseDatabaseUrl(text)!;
        expect(back).toMatchObject({ scheme, user, password: pw, rest });
        // node-postgres reads the same credentials
        const whatwg = new URL(libpqUrl(back));
        expect(decodeURIComponent(whatwg.password)).toBe(pw);
        expect(decodeURIComponent(whatwg.username)).toBe(user);
      }),
      { numRuns: 300 },
    );
  });
});

describe('splitAsyncpgSsl', () => {
  it("turns asyncpg's ssl=<mode> into a TLS option and leaves other URLs alone", () => {
    const url = parseDatabaseUrl('postgresql+asyncpg://a:b@h/d?ssl=require&x=1')!;
    const split = splitAsyncpgSsl(url);
    expect(split.ssl).toEqual({ rejectUnauthorized: false });
    expect(split.url.rest).toBe('h/d?x=1');
    expect(splitAsyncpgSsl(parseDatabaseUrl('postgresql://a:b@h/d?ssl=disable')!)).toMatchObject({ ssl: false, url: { rest: 'h/d' } });
    const plain = parseDatabaseUrl('postgresql://a:b@h/d?sslmode=require')!;
    expect(splitAsyncpgSsl(plain)).toEqual({ url: plain });
    expect(splitAsyncpgSsl(parseDatabaseUrl('postgresql://a:b@h/d?ssl=true')!).url.rest).toBe('h/d?ssl=true');
  });
});

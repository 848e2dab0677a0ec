import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../src/secret-value.js';
import { parseRedisUrl, withPassword } from '../../src/secrets/redis/url.js';

const rewrite = (raw: string, password: string) => withPassword(raw, new SecretValue(password), 'REDIS_URL').reveal();

describe('parseRedisUrl', () => {
  it('reads the platform URL: no user means the default user', () => {
    const url = parseRedisUrl('redis://:s3cret-pass@redis:6379/0', 'REDIS_URL');
    expect(url).toMatchObject({ scheme: 'redis', username: '', user: 'default', host: 'redis', port: 6379, db: 0, tls: false });
    expect(url.password?.reveal()).toBe('s3cret-pass');
  });

  it('reads user, rediss, IPv6, default port, db from path or query', () => {
    const a = parseRedisUrl('rediss://app:p%40ss%3Aword@[::1]/3?ssl_cert_reqs=none', 'X');
    expect(a).toMatchObject({ scheme: 'rediss', user: 'app', host: '::1', port: 6379, db: 3, tls: true });
    expect(a.password?.reveal()).toBe('p@ss:word');
    expect(parseRedisUrl('redis://:pw@h:7000?db=5', 'X').db).toBe(5);
    expect(parseRedisUrl('redis://h', 'X')).toMatchObject({ user: 'default', password: undefined, db: 0 });
    // The userinfo ends at the LAST @ of the authority, as urlparse does; ':' in the password is kept.
    expect(parseRedisUrl('redis://u:a@b:c@h:1/2', 'X').password?.reveal()).toBe('a@b:c');
  });

  it('refuses what is not a Redis URL without echoing the value', () => {
    expect(() => parseRedisUrl('postgres://u:topsecret@h/db', 'REDIS_URL')).toThrow(/REDIS_URL is not a redis/);
    try {
      parseRedisUrl('http://u:topsecret@h', 'REDIS_URL');
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('topsecret');
    }
    // A stray `%` stays as written, as redis-py's unquote leaves it.
    expect(parseRedisUrl('redis://:100%zz%41@h', 'REDIS_URL').password?.reveal()).toBe('100%zzA');
    expect(() => parseRedisUrl('redis://:pw@h/abc', 'REDIS_URL')).toThrow(/database must be a number/);
  });
});

describe('credentials in the query', () => {
  it('refuses password=, username= and user= as a usage error naming the key, never the value', () => {
    for (const query of ['?password=hunter2-other', '?username=root', '?db=1&User=x']) {
      let error: unknown;
      try {
        parseRedisUrl(`redis://:pw@h:6379/0${query}`, 'REDIS_URL');
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'REDIS_URL_CREDENTIAL_OVERRIDE', exitCode: 2 });
      expect((error as Error).message).toContain('REDIS_URL');
      expect((error as Error).message).not.toContain('hunter2-other');
    }
  });
});

describe('withPassword', () => {
  it('changes only the password bytes', () => {
    expect(rewrite('redis://:old@redis:6379/0', 'new')).toBe('redis://:new@redis:6379/0');
    expect(rewrite('rediss://app:old@cache.internal:6380/2?ssl_cert_reqs=required#x', 'n/w@+')).toBe(
      'rediss://app:n%2Fw%40%2B@cache.internal:6380/2?ssl_cert_reqs=required#x',
    );
    expect(rewrite('REDIS://us%20er:old@h/1', 'p')).toBe('REDIS://us%20er:p@h/1');
    expect(rewrite('redis://app@h/1', 'p')).toBe('redis://app:p@h/1');
  });

  it('refuses a URL without userinfo', () => {
    expect(() => rewrite('redis://h:6379/0', 'p')).toThrow(/no user or password part/);
  });

  it('round-trips any password and keeps user, host, port, db and query (property)', () => {
    const user = fc.constantFrom('', 'app', 'celery-worker');
    const host = fc.constantFrom('redis', '127.0.0.1', '[::1]', 'cache.example.com');
    const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
    const db = fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined });
    const query = fc.constantFrom('', '?ssl_cert_reqs=none', '?health_check_interval=10&x=a%40b');
    const password = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' });
    fc.assert(
      fc.property(
        fc.constantFrom('redis', 'rediss'),
        user,
        fc.string({ minLength: 1, maxLength: 20 }),
        password,
        host,
        port,
        db,
        query,
        (scheme, u, oldPw, newPw, h, p, d, q) => {
          const raw = `${scheme}://${encodeURIComponent(u)}:${encodeURIComponent(oldPw)}@${h}${p ? `:${p}` : ''}${d === undefined ? '' : `/${d}`}${q}`;
          const out = rewrite(raw, newPw);
          const before = parseRedisUrl(raw, 'X');
          const after = parseRedisUrl(out, 'X');
          expect(after.password?.reveal()).toBe(newPw);
          expect({ ...after, password: 0 }).toEqual({ ...before, password: 0 });
          // Everything after the userinfo is byte-identical.
          expect(out.slice(out.lastIndexOf('@'))).toBe(raw.slice(raw.lastIndexOf('@')));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads raw printable passwords (a raw @, %, quotes, spaces) and rewrites them encoded (property)', () => {
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 40,
    });
    // `/`, `?` and `#` end the authority for every client; `%XX` is an escape: neither can be written raw.
    const raw = printable.filter((p) => !/[/?#]/.test(p) && !/%[0-9A-Fa-f]{2}/.test(p));
    fc.assert(
      fc.property(
        fc.constantFrom('', 'app'),
        raw,
        printable,
        fc.constantFrom('h:6379/0', '[::1]:6380/2?ssl_cert_reqs=none'),
        (u, oldPw, newPw, rest) => {
          const url = `redis://${u}:${oldPw}@${rest}`;
          const before = parseRedisUrl(url, 'X');
          expect(before.password?.reveal()).toBe(oldPw);
          const out = rewrite(url, newPw);
          const after = parseRedisUrl(out, 'X');
          expect(after.password?.reveal()).toBe(newPw);
          expect({ ...after, password: 0 }).toEqual({ ...before, password: 0 });
          expect(out.endsWith(`@${rest}`)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

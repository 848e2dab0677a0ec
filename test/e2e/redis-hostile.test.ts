// `rotate redis` with the passwords production env files really hold (a raw `@`, `%`, `#`, quotes, spaces) and a
// library debug channel switched on (DEBUG=ioredis:*), end to end with the built CLI against a private redis-server
// with an aclfile. Every output rotate wrote, and everything its restart command saw, is grepped for the passwords.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';

const MASTER_KEY = 'f'.repeat(64);
const ADMIN = 'Adm1n@p%ss "quoted" #admin-secret';
const ADMIN_ENV = 'ROTATE_TEST_REDIS_ADMIN_URL';

let server: PrivateRedis;

beforeAll(async () => {
  server = await startPrivateRedis({
    mode: 'aclfile',
    password: 'initial-default-password-0',
    users: { admin: { password: ADMIN, rules: 'on ~* &* +@all' } },
  });
});

afterAll(async () => {
  await server?.stop();
});

/** Sets the default user's password (over the admin connection) and persists it. */
async function setDefaultPassword(password: string): Promise<void> {
  const admin = await server.connect(ADMIN, 'admin');
  try {
    await admin.call('ACL', 'SETUSER', 'default', 'on', 'resetpass', `>${password}`);
    await admin.call('ACL', 'SAVE');
  } finally {
    admin.disconnect();
  }
}

async function authAs(password: string): Promise<string> {
  try {
    (await server.connect(password)).disconnect();
    return 'ok';
  } catch (error) {
    return String((error as Error).message).split(' ')[0]!;
  }
}

interface Scene {
  dir: string;
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  env(): Record<string, string>;
  texts(...outputs: CliResult[]): Record<string, string>;
}

function scene(lines: string[], secret: Record<string, unknown> = {}): Scene {
  const dir = scratchDir('rotate-redish-');
  writeFileSync(join(dir, '.env'), `${lines.join('\n')}\n`);
  const config = {
    services: { worker: { restart: `env >> child-env.log; tr '\\0' ' ' < /proc/$$/cmdline >> child-argv.log` } },
    secrets: { redis: { kind: 'redis', services: ['worker'], strategy: 'acl', graceHours: 0, adminUrlEnv: ADMIN_ENV, ...secret } },
  };
  writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'latin1') : '');
  return {
    dir,
    cli: (args, env = {}) =>
      runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY, [ADMIN_ENV]: server.url(ADMIN, 'admin'), ...env } }),
    env: () => dotenv.parse(readFileSync(join(dir, '.env'))),
    texts: (...outputs) => ({
      ...readTree(join(dir, '.rotate')),
      stdout: outputs.map((o) => o.stdout).join('\n'),
      stderr: outputs.map((o) => o.stderr).join('\n'),
      'child-env.log': read('child-env.log'),
      'child-argv.log': read('child-argv.log'),
    }),
  };
}

/** Every piece of a password a leak could show: the whole, and each part between the URL's delimiters. */
const partsOf = (password: string): string[] => [password, ...password.split(/[@%#:'" ]/).filter((part) => part.length >= 6)];

describe('hostile Redis passwords', () => {
  it('DEBUG=ioredis:* prints none of the old, new or admin passwords (hostile characters, encoded in the URL)', async () => {
    const old = `Old@p%ss'"  w0rd#1-${Date.now()}`;
    await setDefaultPassword(old);
    const s = scene([`REDIS_URL=redis://:${encodeURIComponent(old)}@127.0.0.1:${server.port}/0`]);
    const result = await s.cli(['redis', '--yes', '--json'], { DEBUG: 'ioredis:*' });
    expect(result.code, result.stderr).toBe(0);
    const next = decodeURIComponent(/^redis:\/\/:([^@]+)@/.exec(s.env().REDIS_URL!)![1]!);
    expect(await authAs(next)).toBe('ok');
    expect(await authAs(old)).toBe('WRONGPASS');
    // The channel is really off (no ioredis lines at all), not merely lucky.
    expect(result.stderr).not.toMatch(/ioredis:/);
    expect(findLeaks(s.texts(result), [...partsOf(old), next, ...partsOf(ADMIN)])).toEqual([]);
  });

  it('a raw @ and % in the URL password rotate the right user and leak nothing', async () => {
    const old = `Old@Secret%zz-${Date.now()}`;
    await setDefaultPassword(old);
    const s = scene([`REDIS_URL=redis://:${old}@127.0.0.1:${server.port}/0`, 'OTHER=x']);
    const result = await s.cli(['redis', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const next = /^redis:\/\/:([A-Za-z0-9_-]{43})@/.exec(s.env().REDIS_URL!)?.[1];
    expect(s.env().REDIS_URL).toBe(`redis://:${next}@127.0.0.1:${server.port}/0`);
    expect(await authAs(next!)).toBe('ok');
    expect(await authAs(old)).toBe('WRONGPASS');
    expect(findLeaks(s.texts(result), [...partsOf(old), next!, ...partsOf(ADMIN)])).toEqual([]);
  });

  it('a URL whose query sets password= is refused with exit 2 before anything changes', async () => {
    const old = `query-case-${Date.now()}`;
    await setDefaultPassword(old);
    const s = scene([`REDIS_URL=redis://:${old}@127.0.0.1:${server.port}/0?password=another-one-123`]);
    const result = await s.cli(['redis', '--yes']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('REDIS_URL_CREDENTIAL_OVERRIDE');
    expect(await authAs(old)).toBe('ok');
    expect(findLeaks(s.texts(result), [old, 'another-one-123'])).toEqual([]);
  });

  it('copies of the password: unlisted ones stop the run (exit 2, password unchanged); listed ones (URL and bare) all get the new one', async () => {
    const old = `Copy@p%ss-${Date.now()}`;
    await setDefaultPassword(old);
    const lines = [
      `REDIS_URL=redis://:${old}@127.0.0.1:${server.port}/0`,
      `CELERY_BROKER_URL=redis://:${encodeURIComponent(old)}@127.0.0.1:${server.port}/1`,
      `REDIS_PASSWORD=${old}`,
    ];
    const s = scene(lines);
    const refused = await s.cli(['redis', '--yes']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('REDIS_COPY_NOT_LISTED');
    expect(refused.stderr).toContain('CELERY_BROKER_URL, REDIS_PASSWORD');
    expect(readFileSync(join(s.dir, '.env'), 'utf8')).toBe(`${lines.join('\n')}\n`);
    expect(await authAs(old)).toBe('ok');

    const other = scene([...lines, `CELERY_RESULT_BACKEND=redis://:another-pass-77@127.0.0.1:${server.port}/2`], {
      alsoUpdate: ['CELERY_BROKER_URL', 'REDIS_PASSWORD', 'CELERY_RESULT_BACKEND'],
    });
    const mismatch = await other.cli(['redis', '--yes']);
    expect(mismatch.code, mismatch.stderr).toBe(2);
    expect(mismatch.stderr).toContain('REDIS_ALSO_UPDATE_MISMATCH');
    expect(mismatch.stderr).toContain('CELERY_RESULT_BACKEND');
    expect(await authAs(old)).toBe('ok');

    const listed = scene(lines, { alsoUpdate: ['CELERY_BROKER_URL', 'REDIS_PASSWORD'] });
    const result = await listed.cli(['redis', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const env = listed.env();
    const next = env.REDIS_PASSWORD!;
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(env.REDIS_URL).toBe(`redis://:${next}@127.0.0.1:${server.port}/0`);
    expect(env.CELERY_BROKER_URL).toBe(`redis://:${next}@127.0.0.1:${server.port}/1`);
    expect(await authAs(next)).toBe('ok');
    expect(await authAs(old)).toBe('WRONGPASS');
    const texts = {
      ...s.texts(refused),
      ...Object.fromEntries(Object.entries(other.texts(mismatch)).map(([k, v]) => [`mismatch ${k}`, v])),
    };
    expect(
      findLeaks({ ...texts, ...Object.fromEntries(Object.entries(listed.texts(result)).map(([k, v]) => [`listed ${k}`, v])) }, [
        ...partsOf(old),
        next,
        'another-pass-77',
      ]),
    ).toEqual([]);
  });
});

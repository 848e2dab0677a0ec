// dotenvx-encrypted env files end to end (#20 item 1): files encrypted by the real dotenvx CLI, the stand-in app run
// by `dotenvx run` (so verification is real), every result read back with `dotenvx get`, and everything rotate wrote
// byte-scanned for the old and new values and the private key, raw and base64.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterEach, describe, expect, it } from 'vitest';
import { authStatus, type StandInApp, standInApp } from '../helpers/app.js';
import { findLeaks, readTree, runCli, runOutputs, scratchDir } from '../helpers/cli.js';
import { dotenvxEncrypt, dotenvxGet } from '../helpers/dotenvx.js';
import { HANGING_RESTART, killInRestart } from '../helpers/wait.js';

const OLD_JWT = `old-jwt-${randomBytes(16).toString('hex')}`;
const MASTER_KEY = randomBytes(32).toString('hex');
const ENV_TEXT = `# app settings\nAPP_ENV=production\nJWT_SECRET=${OLD_JWT}\nLOG_LEVEL=info\n`;

const read = (path: string) => readFileSync(path, 'utf8');
const b64 = (value: string) => Buffer.from(value).toString('base64');
/** Every value as itself and base64-encoded (a value written as base64 would pass a raw grep). */
const forms = (...values: string[]) => values.flatMap((v) => [v, b64(v)]);
/** The lines that do not assign a key rotate wrote: must be the same bytes before and after. */
const untouched = (text: string, keys: string[]) => text.split('\n').filter((line) => !keys.some((k) => line.startsWith(`${k}=`)));

let app: StandInApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function project(options: { verify?: 'ok' | 'refused'; graceHours?: number; restartPrefix?: string } = {}) {
  const dir = scratchDir('rotate-dotenvx-');
  writeFileSync(join(dir, '.env'), ENV_TEXT, { mode: 0o600 });
  await dotenvxEncrypt(dir);
  const privateKey = dotenv.parse(read(join(dir, '.env.keys'))).DOTENV_PRIVATE_KEY ?? '';
  app = await standInApp(dir, '.env', 'app', { dotenvx: true });
  const { url, restartCommand } = app;
  const verifyUrl = options.verify === 'refused' ? `${url}/api/not-here` : `${url}/api/auth/me`;
  const writeConfig = (restartPrefix = '') => {
    const config = {
      services: { backend: { restart: `${restartPrefix}${restartCommand}`, health: { url: `${url}/healthz`, timeoutSeconds: 20 } } },
      secrets: {
        jwt: { kind: 'jwt', services: ['backend'], graceHours: options.graceHours ?? 0, verify: { url: verifyUrl, claims: { id: '1' } } },
      },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
  };
  writeConfig(options.restartPrefix);
  await app.start();
  const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY, ...env } });
  return { dir, privateKey, cli, writeConfig, url, path: join(dir, '.env') };
}

describe('a dotenvx-encrypted .env', () => {
  it('is rotated encrypted: dotenvx reads the new value, the app run by dotenvx verified it, no plaintext anywhere', async () => {
    const { dir, privateKey, cli, url, path } = await project({ graceHours: 1 });
    const before = read(path);
    const result = await cli(['jwt', '--yes']);
    expect(result.code, result.stderr).toBe(0);

    const got = await dotenvxGet(dir);
    const newJwt = got.JWT_SECRET ?? '';
    expect(newJwt).not.toBe(OLD_JWT);
    expect(newJwt.length).toBeGreaterThanOrEqual(43);
    expect(got).toMatchObject({ APP_ENV: 'production', LOG_LEVEL: 'info', JWT_SECRET_PREVIOUS: OLD_JWT });
    // The app, restarted under `dotenvx run`, took the new secret (and the old one for the grace period).
    expect(await authStatus(url, newJwt)).toBe(200);

    const after = read(path);
    expect(dotenv.parse(after).JWT_SECRET).toMatch(/^encrypted:/);
    expect(dotenv.parse(after).JWT_SECRET_PREVIOUS).toMatch(/^encrypted:/);
    expect(untouched(after, ['JWT_SECRET', 'JWT_SECRET_PREVIOUS'])).toEqual(untouched(before, ['JWT_SECRET']));
    expect(findLeaks({ envFile: after }, forms(newJwt, OLD_JWT))).toEqual([]);
    expect(findLeaks(runOutputs(dir, result), [...forms(newJwt, OLD_JWT), privateKey])).toEqual([]);
  });

  it('a failed verification puts the ciphertext back byte for byte', async () => {
    const { dir, privateKey, cli, path } = await project({ verify: 'refused' });
    const before = read(path);
    const result = await cli(['jwt', '--yes']);
    expect(result.code, result.stderr).toBe(1);
    expect(read(path)).toBe(before);
    expect((await dotenvxGet(dir)).JWT_SECRET).toBe(OLD_JWT);
    expect(findLeaks(runOutputs(dir, result), [...forms(OLD_JWT), privateKey])).toEqual([]);
  });

  it('killed in its restart, `rotate resume` undoes it: the ciphertext back byte for byte, read by dotenvx and the app', async () => {
    const { dir, privateKey, cli, writeConfig, url, path } = await project({ restartPrefix: HANGING_RESTART });
    const before = read(path);
    await killInRestart(dir, 'jwt', ['jwt', '--yes'], { ROTATE_MASTER_KEY: MASTER_KEY });
    const written = read(path);
    expect(written).not.toBe(before); // the new value was written before the restart
    const newJwt = (await dotenvxGet(dir)).JWT_SECRET ?? '';
    expect(newJwt).not.toBe(OLD_JWT);
    expect(findLeaks({ envFile: written }, forms(newJwt, OLD_JWT))).toEqual([]);

    writeConfig();
    const resumed = await cli(['resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).results[0].status).toBe('undone');
    expect(read(path)).toBe(before);
    expect((await dotenvxGet(dir)).JWT_SECRET).toBe(OLD_JWT);
    expect(await authStatus(url, OLD_JWT)).toBe(200);
    expect(await authStatus(url, newJwt)).toBe(401);
    expect(findLeaks(runOutputs(dir, resumed), [...forms(newJwt, OLD_JWT), privateKey])).toEqual([]);
  });

  it('without a usable private key: exit 2 naming the file, the key and the fix; nothing changed, no value printed', async () => {
    const { dir, privateKey, cli, path } = await project();
    const before = read(path);
    renameSync(join(dir, '.env.keys'), join(dir, 'keys.moved'));
    const other = randomBytes(32).toString('hex');

    const missing = await cli(['jwt', '--yes']);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toContain('DOTENVX_KEY_MISSING');
    expect(missing.stderr).toContain(path);
    expect(missing.stderr).toContain('DOTENV_PRIVATE_KEY');

    const wrong = await cli(['jwt', '--yes'], { DOTENV_PRIVATE_KEY: other });
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toContain('DOTENVX_KEY_WRONG');

    const raw = dotenv.parse(before);
    writeFileSync(path, before.replace(raw.JWT_SECRET ?? '', (raw.JWT_SECRET ?? '').slice(0, 60)));
    const damaged = read(path);
    const malformed = await cli(['jwt', '--yes', '--json'], { DOTENV_PRIVATE_KEY: privateKey });
    expect(malformed.code, malformed.stderr).toBe(2);
    expect(malformed.stdout).toContain('DOTENVX_VALUE_MALFORMED');
    expect(malformed.stdout).toContain('JWT_SECRET');
    expect(read(path)).toBe(damaged);
    writeFileSync(path, before);

    expect(read(path)).toBe(before);
    expect(findLeaks(runOutputs(dir, missing, wrong, malformed), [...forms(OLD_JWT), privateKey, other])).toEqual([]);
  });
});

describe('several env files, encrypted and plain', () => {
  it('.env.production (DOTENV_PRIVATE_KEY_PRODUCTION from the environment) and a plain worker/.env get the same new value; the restart command inherits no private key', async () => {
    const dir = scratchDir('rotate-dotenvx-');
    writeFileSync(join(dir, '.env.production'), ENV_TEXT, { mode: 0o600 });
    await dotenvxEncrypt(dir, '.env.production');
    const privateKey = dotenv.parse(read(join(dir, '.env.keys'))).DOTENV_PRIVATE_KEY_PRODUCTION ?? '';
    renameSync(join(dir, '.env.keys'), join(dir, 'keys.moved')); // the key comes from the environment only
    mkdirSync(join(dir, 'worker'));
    writeFileSync(join(dir, 'worker/.env'), `JWT_SECRET=${OLD_JWT}\n`, { mode: 0o600 });
    const config = {
      envFile: ['.env.production', 'worker/.env'],
      services: { backend: { restart: 'env > child-env.log' } },
      secrets: { jwt: { kind: 'jwt', services: ['backend'] } },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
    const result = await runCli(['jwt', '--yes'], {
      cwd: dir,
      env: { ROTATE_MASTER_KEY: MASTER_KEY, DOTENV_PRIVATE_KEY_PRODUCTION: privateKey },
    });
    expect(result.code, result.stderr).toBe(0);

    const worker = dotenv.parse(read(join(dir, 'worker/.env'))).JWT_SECRET ?? '';
    expect(worker).not.toBe(OLD_JWT);
    const got = await dotenvxGet(dir, '.env.production', { DOTENV_PRIVATE_KEY_PRODUCTION: privateKey });
    expect(got.JWT_SECRET).toBe(worker);
    expect(dotenv.parse(read(join(dir, '.env.production'))).JWT_SECRET).toMatch(/^encrypted:/);

    const childEnv = read(join(dir, 'child-env.log'));
    expect(childEnv).not.toMatch(/^DOTENV_PRIVATE_KEY/m);
    expect(findLeaks({ production: read(join(dir, '.env.production')) }, forms(worker, OLD_JWT))).toEqual([]);
    expect(
      findLeaks({ ...readTree(join(dir, '.rotate')), stdout: result.stdout, stderr: result.stderr, childEnv }, [
        ...forms(worker, OLD_JWT),
        privateKey,
      ]),
    ).toEqual([]);
  });

  it('a managed key in plaintext in an encrypted file: a warning, and its new value written encrypted', async () => {
    const dir = scratchDir('rotate-dotenvx-');
    writeFileSync(join(dir, '.env'), 'APP_ENV=production\n', { mode: 0o600 });
    await dotenvxEncrypt(dir);
    writeFileSync(join(dir, '.env'), `${read(join(dir, '.env'))}JWT_SECRET=${OLD_JWT}\n`);
    const config = { secrets: { jwt: { kind: 'jwt', services: [] } } };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
    const result = await runCli(['jwt', '--yes', '--no-restart'], { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/JWT_SECRET is in plaintext in .*\.env, which dotenvx encrypts/);
    const got = await dotenvxGet(dir);
    expect(got.JWT_SECRET).not.toBe(OLD_JWT);
    expect(dotenv.parse(read(join(dir, '.env'))).JWT_SECRET).toMatch(/^encrypted:/);
    expect(
      findLeaks({ envFile: read(join(dir, '.env')), stdout: result.stdout, stderr: result.stderr }, forms(got.JWT_SECRET ?? '')),
    ).toEqual([]);
  });
});

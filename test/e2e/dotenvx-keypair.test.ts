// The dotenvx kind end to end (#20 item 2): a file encrypted by the real dotenvx CLI gets a new keypair; the stand-in
// app, restarted under `dotenvx run`, reads the file with the new key from .env.keys; `dotenvx get` reads every value;
// a kill in the restart and `rotate resume` leave the file and .env.keys as they were, one key.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterEach, describe, expect, it } from 'vitest';
import { authStatus, type StandInApp, standInApp } from '../helpers/app.js';
import { findLeaks, runCli, runOutputs, scratchDir } from '../helpers/cli.js';
import { dotenvx, dotenvxEncrypt, dotenvxGet } from '../helpers/dotenvx.js';
import { HANGING_RESTART, killInRestart } from '../helpers/wait.js';

const OLD_JWT = `old-jwt-${randomBytes(16).toString('hex')}`;
const MASTER_KEY = randomBytes(32).toString('hex');
const ENV_TEXT = `# app settings\nAPP_ENV=production\nJWT_SECRET=${OLD_JWT}\nLOG_LEVEL=info\n`;

const read = (path: string) => readFileSync(path, 'utf8');
const keysIn = (dir: string) => (dotenv.parse(read(join(dir, '.env.keys'))).DOTENV_PRIVATE_KEY ?? '').split(',');
const forms = (...values: string[]) => values.flatMap((v) => [v, Buffer.from(v).toString('base64')]);

let app: StandInApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function project(restartPrefix = '') {
  const dir = scratchDir('rotate-dotenvx-kind-');
  writeFileSync(join(dir, '.env'), ENV_TEXT, { mode: 0o600 });
  await dotenvxEncrypt(dir);
  const [oldKey = ''] = keysIn(dir);
  app = await standInApp(dir, '.env', 'app', { dotenvx: true });
  const { url, restartCommand } = app;
  const writeConfig = (prefix: string) =>
    writeFileSync(
      join(dir, 'rotate.config.json'),
      JSON.stringify({
        services: { backend: { restart: `${prefix}${restartCommand}`, health: { url: `${url}/healthz`, timeoutSeconds: 20 } } },
        secrets: {
          dotenvx: { kind: 'dotenvx', services: ['backend'] },
          jwt: { kind: 'jwt', services: ['backend'], verify: { url: `${url}/api/auth/me`, claims: { id: '1' } } },
        },
      }),
    );
  writeConfig(restartPrefix);
  await app.start();
  const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY, ...env } });
  return { dir, oldKey, url, cli, writeConfig, path: join(dir, '.env') };
}

describe('rotate dotenvx', () => {
  it('gives the file a new keypair: every value encrypted again, the new private key alone in .env.keys (0600), the app restarted by dotenvx run reads it', async () => {
    const { dir, oldKey, url, cli, path } = await project();
    const before = read(path);
    const result = await cli(['dotenvx', '--yes']);
    expect(result.code, result.stderr).toBe(0);

    const keys = keysIn(dir);
    expect(keys).toHaveLength(1);
    const [newKey = ''] = keys;
    expect(newKey).toMatch(/^[0-9a-f]{64}$/);
    expect(newKey).not.toBe(oldKey);
    expect(statSync(join(dir, '.env.keys')).mode & 0o777).toBe(0o600);

    const after = read(path);
    const raw = dotenv.parse(after);
    expect(raw.DOTENV_PUBLIC_KEY).not.toBe(dotenv.parse(before).DOTENV_PUBLIC_KEY);
    for (const key of ['APP_ENV', 'JWT_SECRET', 'LOG_LEVEL']) {
      expect(raw[key]).toMatch(/^encrypted:/);
      expect(raw[key]).not.toBe(dotenv.parse(before)[key]);
    }
    // Comments and the header are the same bytes; only the public key and the values changed.
    const skeleton = (text: string) => text.split('\n').filter((line) => !/^[A-Z_]+=/.test(line));
    expect(skeleton(after)).toEqual(skeleton(before));

    expect(await dotenvxGet(dir)).toMatchObject({ APP_ENV: 'production', JWT_SECRET: OLD_JWT, LOG_LEVEL: 'info' });
    // The old private key opens nothing any more.
    renameSync(join(dir, '.env.keys'), join(dir, 'keys.moved'));
    const withOld = await dotenvx(['get', 'JWT_SECRET', '-f', '.env'], { cwd: dir, env: { DOTENV_PRIVATE_KEY: oldKey } });
    expect(withOld.stdout).not.toContain(OLD_JWT);
    renameSync(join(dir, 'keys.moved'), join(dir, '.env.keys'));
    // The app, restarted under `dotenvx run`, decrypted the file with the new key.
    expect(await authStatus(url, OLD_JWT)).toBe(200);

    expect(findLeaks(runOutputs(dir, result), [oldKey, newKey, ...forms(OLD_JWT)])).toEqual([]);

    const back = await cli(['rollback', 'dotenvx', '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(keysIn(dir)).toEqual([oldKey]);
    expect(await dotenvxGet(dir)).toMatchObject({ JWT_SECRET: OLD_JWT });
    expect(dotenv.parse(read(path)).DOTENV_PUBLIC_KEY).toBe(dotenv.parse(before).DOTENV_PUBLIC_KEY);
    expect(findLeaks(runOutputs(dir, result, back), [oldKey, newKey, ...forms(OLD_JWT)])).toEqual([]);
  });

  it('killed in its restart (file under the new key, both keys in .env.keys), `rotate resume` puts back the file and the one old key', async () => {
    const { dir, oldKey, url, cli, writeConfig, path } = await project(HANGING_RESTART);
    const before = read(path);
    const keysBefore = read(join(dir, '.env.keys'));
    await killInRestart(dir, 'dotenvx', ['dotenvx', '--yes'], { ROTATE_MASTER_KEY: MASTER_KEY });

    // In flight: the file is under the new key and .env.keys holds both; dotenvx reads it.
    expect(read(path)).not.toBe(before);
    const inFlight = keysIn(dir);
    expect(inFlight).toHaveLength(2);
    expect(inFlight[1]).toBe(oldKey);
    expect(await dotenvxGet(dir)).toMatchObject({ JWT_SECRET: OLD_JWT });

    writeConfig('');
    const resumed = await cli(['resume', '--json']);
    expect(resumed.code, resumed.stdout).toBe(0);
    expect(JSON.parse(resumed.stdout).results[0].status).toBe('undone');
    expect(read(path)).toBe(before);
    expect(read(join(dir, '.env.keys'))).toBe(keysBefore);
    expect(await dotenvxGet(dir)).toMatchObject({ JWT_SECRET: OLD_JWT });
    expect(await authStatus(url, OLD_JWT)).toBe(200);
    expect(findLeaks(runOutputs(dir, resumed), [...inFlight, ...forms(OLD_JWT)])).toEqual([]);
  });

  it('refuses a private key in the environment, and a file that is not encrypted: exit 2, nothing changed', async () => {
    const { dir, oldKey, cli, path } = await project();
    const before = read(path);
    const keysBefore = read(join(dir, '.env.keys'));
    const inEnvironment = await cli(['dotenvx', '--yes'], { DOTENV_PRIVATE_KEY: oldKey });
    expect(inEnvironment.code, inEnvironment.stderr).toBe(2);
    expect(inEnvironment.stderr).toContain('DOTENVX_KEY_IN_ENVIRONMENT');
    const dry = await cli(['--dry-run', 'dotenvx'], { DOTENV_PRIVATE_KEY: oldKey });
    expect(dry.code, dry.stderr).toBe(1);

    writeFileSync(join(dir, 'plain.env'), 'JWT_SECRET=x\n');
    const plain = await cli(['dotenvx', '--yes', '--env-file', 'plain.env']);
    expect(plain.code, plain.stderr).toBe(2);
    expect(plain.stderr).toContain('DOTENVX_TARGET');

    expect(read(path)).toBe(before);
    expect(read(join(dir, '.env.keys'))).toBe(keysBefore);
    expect(findLeaks(runOutputs(dir, inEnvironment, dry, plain), [oldKey, ...forms(OLD_JWT)])).toEqual([]);
  });
});

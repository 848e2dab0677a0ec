// Delivery with the built CLI: several env files get one identical new value or, when they disagree, stay as they
// were; a secret nothing restarts is refused unless --no-restart, which says the value is written, not applied; a
// copy of the value under another key stops the run until it is listed in alsoUpdate.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';

const OLD = 'old-signing-secret-0123456789-abcdefghijklmnop';
const OTHER = 'other-signing-secret-9876543210-zyxwvutsrqpon';
const MASTER_KEY = 'd'.repeat(64);
const SERVICE = { app: { restart: 'true' } };

function project(files: Record<string, string>, config: Record<string, unknown>) {
  const dir = scratchDir('rotate-delivery-');
  mkdirSync(join(dir, 'worker'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
  writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });
  return { dir, read, cli };
}

const BACKEND = `# backend\nJWT_SECRET=${OLD}\nAPP_ENV=production\n`;
const WORKER = `export JWT_SECRET="${OLD}" # shared with the backend\r\nQUEUE=default\r\n`;
const TWO_FILES = { envFile: ['.env', 'worker/.env'], services: SERVICE, secrets: { jwt: { services: ['app'] } } };

describe('several env files', () => {
  it('both end with one identical new value, each edited in place; nothing leaks', async () => {
    const p = project({ '.env': BACKEND, 'worker/.env': WORKER }, TWO_FILES);
    const result = await p.cli(['jwt', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).results[0]).toMatchObject({ secret: 'jwt', status: 'rotated', applied: true });
    const next = /JWT_SECRET=(\S+)/.exec(p.read('.env'))![1]!;
    expect(next).not.toBe(OLD);
    expect(p.read('.env')).toBe(BACKEND.replace(OLD, next));
    expect(p.read('worker/.env')).toBe(WORKER.replace(OLD, next));
    const texts = { ...readTree(join(p.dir, '.rotate')), stdout: result.stdout, stderr: result.stderr };
    expect(findLeaks(texts, [OLD, next])).toEqual([]);
  });

  it('when they disagree: exit 2 naming both files and the key, never a value; both unchanged byte for byte', async () => {
    const worker = WORKER.replace(OLD, OTHER);
    const p = project({ '.env': BACKEND, 'worker/.env': worker }, TWO_FILES);
    const result = await p.cli(['jwt', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[ENV_FILES_DISAGREE]');
    expect(result.stderr).toContain(join(p.dir, '.env'));
    expect(result.stderr).toContain(join(p.dir, 'worker/.env'));
    expect(result.stderr).toContain('JWT_SECRET');
    expect(findLeaks({ stdout: result.stdout, stderr: result.stderr }, [OLD, OTHER])).toEqual([]);
    expect(p.read('.env')).toBe(BACKEND);
    expect(p.read('worker/.env')).toBe(worker);
  });
});

describe('no silent non-delivery', () => {
  const NO_SERVICE = { secrets: { jwt: {} } };

  it('a secret nothing restarts is refused (exit 2, the fix named); --dry-run fails its check (exit 1)', async () => {
    const p = project({ '.env': BACKEND }, NO_SERVICE);
    const refused = await p.cli(['jwt', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[NO_RESTART] nothing restarts the app');
    expect(refused.stderr).toContain('secrets.jwt.services');
    expect(refused.stderr).toContain('--no-restart');
    expect(p.read('.env')).toBe(BACKEND);
    const dry = await p.cli(['jwt', '--dry-run', '--json']);
    expect(dry.code).toBe(1);
    expect(JSON.parse(dry.stdout).results[0].checks).toContainEqual(
      expect.objectContaining({ name: 'a service restarts the app', ok: false }),
    );
  });

  it('--no-restart writes and every output says written, not applied; the old value is not retired', async () => {
    const p = project({ '.env': BACKEND }, NO_SERVICE);
    const json = await p.cli(['jwt', '--yes', '--no-restart', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const [result] = JSON.parse(json.stdout).results;
    expect(result).toMatchObject({ status: 'written', applied: false });
    expect(result.steps).not.toContain('verify');
    expect(result.steps).not.toContain('retire');
    expect(p.read('.env')).not.toContain(OLD);
    const history = JSON.parse((await p.cli(['history', '--json'])).stdout);
    expect(JSON.stringify(history)).toContain('"result":"written"');
    const human = await p.cli(['jwt', '--yes', '--no-restart']);
    expect(human.stdout).toContain('written but not applied to any running process');
    expect(human.stdout).not.toMatch(/verified|retired/);
  });
});

describe('copies of a credential', () => {
  it('an unlisted copy stops the run (exit 2) naming the key and alsoUpdate; listed, it gets the new value', async () => {
    const text = `${BACKEND}JWT_SECRET_COPY=${OLD}\n`;
    const config = { services: SERVICE, secrets: { jwt: { services: ['app'] } } };
    const p = project({ '.env': text }, config);
    const refused = await p.cli(['jwt', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[UNLISTED_COPY]');
    expect(refused.stderr).toContain('JWT_SECRET_COPY');
    expect(refused.stderr).toContain('secrets.jwt.alsoUpdate');
    expect(findLeaks({ stdout: refused.stdout, stderr: refused.stderr }, [OLD])).toEqual([]);
    expect(p.read('.env')).toBe(text);

    writeFileSync(
      join(p.dir, 'rotate.config.json'),
      JSON.stringify({ ...config, secrets: { jwt: { services: ['app'], alsoUpdate: ['JWT_SECRET_COPY'] } } }),
    );
    const done = await p.cli(['jwt', '--yes']);
    expect(done.code, done.stderr).toBe(0);
    const next = /JWT_SECRET=(\S+)/.exec(p.read('.env'))![1]!;
    expect(p.read('.env')).toBe(text.replaceAll(OLD, next));
  });

  it("another secret's key holding the same value is reuse: exit 2, nothing changed", async () => {
    const text = `${BACKEND}JWT_REFRESH_SECRET=${OLD}\n`;
    const config = {
      services: SERVICE,
      secrets: { jwt: { services: ['app'] }, 'jwt-refresh': { kind: 'jwt', env: 'JWT_REFRESH_SECRET', services: ['app'] } },
    };
    const p = project({ '.env': text }, config);
    const refused = await p.cli(['jwt', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[VALUE_REUSED]');
    expect(refused.stderr).toContain('JWT_REFRESH_SECRET (secret jwt-refresh)');
    expect(p.read('.env')).toBe(text);
  });
});

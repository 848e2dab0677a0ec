// exchange-key with the stand-in app (test/app/routes/exchange-key.mjs), which reads its key once at start like the
// platform: the old app keeps writing with the old key until its restart, and the sweep in verify catches those rows.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checksOf } from '../../src/engine/checks.js';
import { exchangeKeyRotator as rotator } from '../../src/secrets/exchange-key/index.js';
import type { ExchangeKeySecretConfig } from '../../src/secrets/exchange-key/kind.js';
import { freePort } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { scratchDatabase } from '../helpers/scratch-database.js';
import { waitUntil } from '../helpers/wait.js';

const database = scratchDatabase('rotate_xk');
const DB_URL = database.url;
const OLD = 'dev-key-32-bytes-long-change-me';
const SERVER = fileURLToPath(new URL('../app/server.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rotate-xk-app-'));
let app: ChildProcess | undefined;
let port = 0;
let appLog = '';

/** (Re)starts the app on the env file as it is now; it reads the file once, like the platform. */
async function startApp(env: Record<string, string>): Promise<void> {
  if (app) {
    app.kill('SIGTERM');
    await new Promise((r) => app!.once('exit', r));
  }
  const envFile = join(dir, '.env');
  writeFileSync(
    envFile,
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  port = await freePort();
  app = spawn(process.execPath, [SERVER, '--env-file', envFile, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  app.stdout!.on('data', (d: Buffer) => (appLog += d.toString()));
  app.stderr!.on('data', (d: Buffer) => (appLog += d.toString()));
  await waitUntil(() => appLog.includes(`:${port}`), 5000, 50);
}

const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
};

beforeAll(async () => {
  const db = await database.create();
  await db.query(`CREATE TABLE exchange_api_keys (id serial PRIMARY KEY, api_key_encrypted text NOT NULL,
    api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL)`);
});

afterAll(async () => {
  app?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  await database.drop();
});

it('rotates under a running app: old-app writes in the window are swept, the restarted app reads every row', async () => {
  const env = { EXCHANGE_KEY_ENCRYPTION_KEY: OLD, DATABASE_URL: DB_URL };
  await startApp(env);
  for (let i = 0; i < 25; i++) {
    expect(
      (await call('POST', '/api/exchange-keys', { api_key: `k${i}`, api_secret: i % 4 ? `s${i}` : '', passphrase: i % 3 ? `p${i}` : null }))
        .status,
    ).toBe(201);
  }
  expect(await call('GET', '/api/exchange-keys/check')).toMatchObject({ status: 200, body: { rows: 25 } });

  const ctx = testContext<ExchangeKeySecretConfig>({ config: { kind: 'exchange-key' }, env });
  expect((await rotator.preflight(ctx)).checks.every((c) => c.ok)).toBe(true);
  const rotation = await rotator.generate(ctx);
  await rotator.apply(ctx, rotation);
  // The window the platform cannot avoid: the old app reads new ciphertext until its restart...
  const during = await call('GET', '/api/exchange-keys/check');
  expect(during.status).toBe(500);
  expect(during.body.failing).toHaveLength(25);
  // ...and writes a row with the old key.
  await call('POST', '/api/exchange-keys', { api_key: 'late', api_secret: 'late-secret', passphrase: null });

  const next = { ...env, EXCHANGE_KEY_ENCRYPTION_KEY: rotation.env.EXCHANGE_KEY_ENCRYPTION_KEY!.reveal() };
  await startApp(next);
  const after = { ...ctx, env: next };
  const checks = checksOf(await rotator.verify(after, rotation));
  expect(checks.filter((c) => !c.ok)).toEqual([]);
  expect(after.logged.join('\n')).toMatch(/re-encrypted 1 row/);
  expect(await call('GET', '/api/exchange-keys/check')).toMatchObject({ status: 200, body: { rows: 26 } });
  await rotator.retire(after, rotation);
  expect((await rotator.verifyRetired(after, rotation)).every((c) => c.ok)).toBe(true);
  expect(appLog).not.toContain(OLD);
  expect(appLog).not.toContain(next.EXCHANGE_KEY_ENCRYPTION_KEY);
});

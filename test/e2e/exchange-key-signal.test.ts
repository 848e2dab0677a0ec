// Ctrl-C in the middle of a per-batch re-encryption (#25 item 6), as an operator does it: the built CLI off a terminal,
// a real PostgreSQL table of 30,000 rows, SIGINT once the progress line says the pass started. rotate says at once what
// it will do, stops after the batch being written (not at the end of the pass), leaves the run to `rotate resume`
// (exit 3), and no row is ever unreadable with the keys the env file holds (read by Python's Fernet, not rotate's).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { pyDecrypt, pyEncrypt } from '../helpers/python-fernet.js';
import { scratchDatabase } from '../helpers/scratch-database.js';

const database = scratchDatabase('rotate_xks');
const OLD = 'default-encryption-key-change-in-production-32-chars!';
const KEY = 'EXCHANGE_KEY_ENCRYPTION_KEY';
const ENV_TEXT = `${KEY}=${OLD}\nDATABASE_URL=${database.url}\n`;
const ROWS = 30_000;
const MASTER_KEY = 'c'.repeat(64);

let db: pg.Client;
beforeAll(async () => {
  db = await database.create();
});
afterAll(() => database.drop());

/** Every row's two values read by Python under `keys`: the index of the key that decrypts each (-1: none). */
async function keysOfRows(keys: string[]): Promise<{ unreadable: number; underFirst: number; plains: Set<string> }> {
  const rows = (await db.query<{ k: string; s: string }>('SELECT api_key_encrypted k, api_secret_encrypted s FROM exchange_api_keys')).rows;
  const reads = pyDecrypt(
    keys,
    rows.flatMap((r) => [r.k, r.s]),
  );
  return {
    unreadable: reads.filter((r) => r.key === -1).length,
    underFirst: reads.filter((r) => r.key === 0).length,
    plains: new Set(reads.map((r) => r.plain ?? '')),
  };
}

it('SIGINT during a per-batch re-encryption: acknowledged at once, stops after the batch being written, resume undoes it', async () => {
  const dir = scratchDir('rotate-xks-');
  writeFileSync(join(dir, '.env'), ENV_TEXT, { mode: 0o600 });
  writeFileSync(
    join(dir, 'rotate.config.json'),
    JSON.stringify({
      services: { backend: { restart: 'true' } },
      secrets: { 'exchange-key': { kind: 'exchange-key', services: ['backend'], batchSize: 100 } },
    }),
  );
  await db.query(`CREATE TABLE exchange_api_keys (id serial PRIMARY KEY, user_id integer NOT NULL DEFAULT 1,
    api_key_encrypted text NOT NULL, api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL)`);
  const [apiKey, apiSecret] = pyEncrypt(OLD, ['exchange-api-key', 'exchange-api-secret']);
  await db.query('INSERT INTO exchange_api_keys (api_key_encrypted, api_secret_encrypted) SELECT $1, $2 FROM generate_series(1, $3::int)', [
    apiKey,
    apiSecret,
    ROWS,
  ]);

  const child = spawn(process.execPath, [CLI, 'exchange-key', '--yes', '--json'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', ROTATE_MASTER_KEY: MASTER_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  // The event: the progress line says the pass has started (off a terminal, a line; on one, a bar).
  const started = new Promise<boolean>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('re-encrypting exchange_api_keys: started')) resolve(true);
    });
    child.on('close', () => resolve(false));
  });
  expect(await started, stderr).toBe(true);
  child.kill('SIGINT');
  const code = await exited;

  expect(code, stderr).toBe(3);
  const doc = JSON.parse(stdout); // exactly one document
  expect(doc).toMatchObject({ ok: false, exitCode: 3, error: { code: 'INTERRUPTED_PENDING' } });
  expect(doc.error.message).toContain('stopped by SIGINT after apply (started, exchange-key)');
  expect(stderr).toContain('step 1 of 8: write-stage (');
  expect(stderr).toContain('step 2 of 8: apply (');
  expect(stderr).toContain(
    'SIGINT: stopping apply (step 2 of 8) after the batch being re-encrypted (the batches before it stay committed, every row readable with the keys in the env file); the run is then left pending (exit 3) and `rotate resume` undoes it. To exit at once, press Ctrl-C again',
  );
  expect(stderr).toMatch(/stopped re-encrypting exchange_api_keys after [\d,]+ row\(s\) in committed batches/);
  expect(stderr).not.toContain('step 3 of 8');

  // The journal: apply started, not done (resume undoes it); the env file holds the old key and the new one staged.
  const journals = readdirSync(join(dir, '.rotate/journal')).filter((n) => n.endsWith('.json'));
  expect(journals).toHaveLength(1);
  const journal = JSON.parse(readFileSync(join(dir, '.rotate/journal', journals[0]!), 'utf8'));
  expect(journal.secrets[0].steps.map((s: { name: string; state: string }) => `${s.name}:${s.state}`)).toEqual(['apply:started']);
  const env = dotenv.parse(readFileSync(join(dir, '.env')));
  const newKey = env[`${KEY}_NEXT`]!;
  expect(env[KEY]).toBe(OLD);
  expect(newKey).toBeTruthy();

  // Stopped mid-pass: some whole batches under the new key, the rest under the old, none under neither.
  const mid = await keysOfRows([OLD, newKey]);
  expect(mid.unreadable).toBe(0);
  const underNew = 2 * ROWS - mid.underFirst;
  expect(underNew).toBeGreaterThan(0);
  expect(underNew).toBeLessThan(2 * ROWS);
  expect(underNew % 200).toBe(0); // whole batches of 100 rows, 2 values each
  expect(mid.plains).toEqual(new Set(['exchange-api-key', 'exchange-api-secret']));

  const status = await runCli(['status'], { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });
  expect(status.stdout).toMatch(/reached the step apply \(started at [^)]+\); `rotate resume` will undo it/);
  const resume = await runCli(['resume', '--json'], { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });
  expect(resume.code, resume.stderr).toBe(0);
  expect(JSON.parse(resume.stdout).results[0].status).toBe('undone');
  expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(ENV_TEXT);
  const after = await keysOfRows([OLD]);
  expect(after).toMatchObject({ unreadable: 0, underFirst: 2 * ROWS });
  expect(after.plains).toEqual(new Set(['exchange-api-key', 'exchange-api-secret']));
  expect((await runCli(['status'], { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } })).code).toBe(0);

  const outputs = {
    stdout,
    stderr,
    status: status.stdout + status.stderr,
    resume: resume.stdout + resume.stderr,
    ...readTree(join(dir, '.rotate')),
  };
  expect(findLeaks(outputs, [OLD, newKey])).toEqual([]);
}, 120_000);

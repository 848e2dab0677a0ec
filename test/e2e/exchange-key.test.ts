// `rotate exchange-key` as a user runs it: the built CLI, a platform-like env file, rows encrypted by the platform's
// own Python code path, the stand-in app restarted for real; afterwards Python reads every row again with the key
// the env file holds. One scratch database for this file (rotate_xke_<random>, dropped in afterAll).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deriveFernetKey, fernetDecrypt } from '../../src/secrets/exchange-key/fernet.js';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { CLI, findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { pyDecrypt, pyEncrypt, pyFernetKeys } from '../helpers/python-fernet.js';
import { scratchDatabase } from '../helpers/scratch-database.js';
import { HANGING_RESTART, journalSteps, killInRestart, waitUntil } from '../helpers/wait.js';

const database = scratchDatabase('rotate_xke');
const DB_URL = database.url;
const OLD = 'default-encryption-key-change-in-production-32-chars!';
const KEY = 'EXCHANGE_KEY_ENCRYPTION_KEY';
const COLUMNS = ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'] as const;

const ENV_TEXT = [
  '# CryptoOrchestrator production settings',
  '',
  'ENVIRONMENT=production',
  '# Fernet key material for the exchange API keys (PBKDF2 -> Fernet)',
  `${KEY}="${OLD}"   # rotated by rotate`,
  `DATABASE_URL=${DB_URL}`,
  "JWT_SECRET='jwt-secret-not-touched-by-this-rotation-0123456789'",
  'export LOG_LEVEL=info',
  'EMPTY=',
  'LAST_LINE=no-final-newline',
].join('\n');

/** [api_key, api_secret, passphrase] plaintexts; "" and NULL as the platform stores a missing value. */
const SAMPLE: [string, string, string | null][] = Array.from({ length: 30 }, (_, i) => [
  `key-${i}-${'x'.repeat(i)}`,
  i % 5 === 0 ? '' : `secret-${i}-ü€`,
  i % 3 === 0 ? null : i % 4 === 0 ? '' : `pass-${i}`,
]);

interface Row {
  id: number;
  user_id: number;
  exchange: string;
  label: string | null;
  created_at: Date;
  api_key_encrypted: string;
  api_secret_encrypted: string;
  passphrase_encrypted: string | null;
}

let db: pg.Client;

beforeAll(async () => {
  db = await database.create();
});

afterAll(() => database.drop());

/** The platform's table, fresh, with columns rotate must not touch. */
async function freshTable(): Promise<void> {
  await db.query('DROP TABLE IF EXISTS exchange_api_keys');
  await db.query(`CREATE TABLE exchange_api_keys (
    id serial PRIMARY KEY, user_id integer NOT NULL, exchange text NOT NULL, label text NULL,
    created_at timestamptz NOT NULL DEFAULT '2024-01-02T03:04:05Z',
    api_key_encrypted text NOT NULL, api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL)`);
}

/** Rows encrypted by Python under `env`, like the platform writes them. */
async function seed(rows: [string, string, string | null][], env = OLD): Promise<void> {
  const tokens = pyEncrypt(env, rows.flat());
  await db.query(
    `INSERT INTO exchange_api_keys (user_id, exchange, label, ${COLUMNS.join(', ')})
     SELECT 1000 + n, 'binance', CASE WHEN n % 2 = 0 THEN 'main' END, k, s, p
     FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(k, s, p, n)`,
    [rows.map((_, i) => tokens[i * 3]), rows.map((_, i) => tokens[i * 3 + 1]), rows.map((_, i) => tokens[i * 3 + 2])],
  );
}

/** `count` rows cycling through `distinct` Python-encrypted triples (the table's size is the point, not variety). */
async function seedLarge(count: number, distinct: [string, string, string | null][]): Promise<void> {
  const tokens = pyEncrypt(OLD, distinct.flat());
  const col = (c: number) => distinct.map((_, i) => tokens[i * 3 + c]);
  await db.query(
    `INSERT INTO exchange_api_keys (user_id, exchange, ${COLUMNS.join(', ')})
     SELECT i, 'kraken', ($2::text[])[1 + i % $1], ($3::text[])[1 + i % $1], ($4::text[])[1 + i % $1]
     FROM generate_series(0, $5 - 1) AS i`,
    [distinct.length, col(0), col(1), col(2), count],
  );
}

const snapshot = async (): Promise<Row[]> => (await db.query<Row>('SELECT * FROM exchange_api_keys ORDER BY id')).rows;

/** Python reads every encrypted value of `rows`: which of `envs` decrypts it, and the plaintext. */
function pyRead(rows: Row[], envs: string[]) {
  const reads = pyDecrypt(
    envs,
    rows.flatMap((r) => COLUMNS.map((c) => r[c])),
  );
  return {
    keys: reads.map((r) => r.key),
    plain: rows.map((_, i) => COLUMNS.map((_, c) => reads[i * 3 + c]!.plain)),
  };
}

/** Every value that is not NULL or "" decrypts under envs[key] (Python), and the plaintexts are `expected`. */
function expectAllUnder(rows: Row[], envs: string[], key: number, expected: (string | null)[][]): void {
  const read = pyRead(rows, envs);
  const values = rows.flatMap((r) => COLUMNS.map((c) => r[c]));
  const wrong = read.keys.map((k, i) => ({ k, i })).filter(({ k, i }) => (values[i] === null || values[i] === '' ? k !== null : k !== key));
  expect(wrong, `values not under key #${key}`).toEqual([]);
  expect(read.plain).toEqual(expected);
}

describe('rotate exchange-key end to end', () => {
  let dir: string;
  let app: StandInApp;
  const masterKey = 'b'.repeat(64);

  function writeConfig(
    extra: {
      restartPrefix?: string;
      restart?: string;
      batchSize?: number;
      healthTimeout?: number;
      healthPath?: string;
      verifyPath?: string;
    } = {},
  ) {
    const config = {
      services: {
        backend: {
          // The restart command also records its own argv and environment, for the leak greps.
          restart: `${extra.restartPrefix ?? ''}tr "\\0" " " < /proc/$$/cmdline >> child-argv.log; env >> child-env.log; ${extra.restart ?? app.restartCommand}`,
          // The app's check route decrypts every row with the key it read at start: healthy means it reads them all.
          health: { url: `${app.url}${extra.healthPath ?? '/api/exchange-keys/check'}`, timeoutSeconds: extra.healthTimeout ?? 15 },
        },
      },
      secrets: {
        'exchange-key': {
          kind: 'exchange-key',
          services: ['backend'],
          ...(extra.batchSize ? { batchSize: extra.batchSize } : {}),
          ...(extra.verifyPath ? { verify: { url: `${app.url}${extra.verifyPath}` } } : {}),
        },
      },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  }

  const envText = () => readFileSync(join(dir, '.env'), 'utf8');
  const env = () => dotenv.parse(envText());
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: masterKey } });
  const check = async () => {
    const response = await fetch(`${app.url}/api/exchange-keys/check`);
    return { status: response.status, body: (await response.json()) as { rows?: number; failing?: number[] } };
  };

  beforeEach(async () => {
    dir = scratchDir('rotate-xke-');
    writeFileSync(join(dir, '.env'), ENV_TEXT);
    await freshTable();
    app = await standInApp(dir);
    writeConfig();
  });

  afterEach(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rotates Python-encrypted rows: only the key line changes, Python reads every row with the new key, nothing leaks', async () => {
    await seed(SAMPLE);
    await app.start();
    expect(await check()).toMatchObject({ status: 200, body: { rows: SAMPLE.length } });
    const before = await snapshot();
    const plan = JSON.parse((await cli(['exchange-key', '--dry-run', '--json'])).stdout).results[0];

    const result = await cli(['exchange-key', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0]).toMatchObject({ secret: 'exchange-key', status: 'rotated' });
    // Off a terminal (this pipe) the re-encryption speaks in log lines: when it starts and when it ends, with rows
    // (a line at least every 10 s in between: test/unit/progress.test.ts).
    expect(result.stderr).toMatch(/re-encrypting exchange_api_keys: started/);
    expect(result.stderr).toMatch(/re-encrypting exchange_api_keys: [\d,]+ rows in \d+s/);
    // The dry run listed the steps the run took, the staging write first.
    expect(plan.steps[0]).toBe('write-stage');
    expect(doc.results[0].steps).toEqual(plan.steps);

    // Only the key's line changed, byte for byte; quoting and the trailing comment kept.
    const next = env()[KEY]!;
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(envText()).toBe(ENV_TEXT.replace(OLD, next));

    // Same rows, same other columns; "" and NULL untouched; every other value re-encrypted.
    const after = await snapshot();
    expect(after).toHaveLength(before.length);
    const others = (r: Row) => ({ id: r.id, user_id: r.user_id, exchange: r.exchange, label: r.label, created_at: r.created_at });
    expect(after.map(others)).toEqual(before.map(others));
    for (const [i, row] of after.entries()) {
      for (const c of COLUMNS) {
        const was = before[i]![c];
        if (was === null || was === '') expect(row[c]).toBe(was);
        else expect(row[c]).not.toBe(was);
      }
    }
    // Python, with the key read back from the env file: every value decrypts under it, 0 under the old key.
    expectAllUnder(after, [next, OLD], 0, SAMPLE);
    expect(pyRead(after, [OLD]).keys.filter((k) => k === 0)).toEqual([]);
    // The restarted app reads every row.
    expect(await check()).toMatchObject({ status: 200, body: { rows: SAMPLE.length } });

    const texts = {
      ...readTree(join(dir, '.rotate')),
      stdout: result.stdout,
      stderr: result.stderr,
      'child-argv.log': readFileSync(join(dir, 'child-argv.log'), 'utf8'),
      'child-env.log': readFileSync(join(dir, 'child-env.log'), 'utf8'),
      'app.log': app.log(),
    };
    const fernetKeys = pyFernetKeys([OLD, next]);
    const secrets = [
      OLD,
      next,
      ...fernetKeys,
      ...fernetKeys.map((k) => k.replace(/=+$/, '')),
      ...fernetKeys.map((k) => Buffer.from(k, 'base64url').toString('hex')),
    ];
    expect(findLeaks(texts, secrets)).toEqual([]);
    // The greps read real things: the restart shell's own command line, its environment, the app's argv.
    expect(texts['child-argv.log']).toContain('restart.mjs');
    expect(texts['child-env.log']).toContain('PATH=');
    expect(texts['app.log']).toContain('argv:');
    expect(texts['child-env.log']).not.toContain(masterKey);
  });

  it('--dry-run counts, test-decrypts and estimates, changing nothing; a bad ciphertext is named by table, column and id', async () => {
    await seed(SAMPLE);
    await app.start(); // the dry run checks the service's health too
    const before = await snapshot();
    const ok = await cli(['exchange-key', '--dry-run', '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, dryRun: true, ok: true });
    const planned = doc.results[0];
    expect(planned.status).toBe('planned');
    expect(planned.checks.length).toBeGreaterThan(0);
    expect(planned.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    const values = SAMPLE.flat().filter((v) => v !== null && v !== '').length;
    expect(planned.facts).toMatchObject({
      rowsByTable: { exchange_api_keys: SAMPLE.length },
      rows: SAMPLE.length,
      values,
      undecryptable: 0,
    });
    expect(typeof planned.facts.estimatedSeconds).toBe('number');
    expect(envText()).toBe(ENV_TEXT);
    expect(await snapshot()).toEqual(before);
    expect(existsSync(join(dir, '.rotate/history.jsonl'))).toBe(false);

    // One value under another key (Python-encrypted), one that is not a token at all.
    const ids = before.map((r) => r.id);
    const [foreign] = pyEncrypt('some-other-key-that-is-not-the-current-one', ['stolen']);
    await db.query('UPDATE exchange_api_keys SET api_secret_encrypted = $1 WHERE id = $2', [foreign, ids[7]]);
    await db.query(`UPDATE exchange_api_keys SET passphrase_encrypted = 'gAAAAABnot-a-fernet-token==' WHERE id = $1`, [ids[13]]);
    const broken = await snapshot();

    const dry = await cli(['exchange-key', '--dry-run', '--json']);
    expect(dry.code).toBe(1);
    const failedDoc = JSON.parse(dry.stdout);
    expect(failedDoc.ok).toBe(false);
    const failing = failedDoc.results[0].checks.filter((c: { ok: boolean }) => !c.ok);
    const decrypt = failing.find((c: { name: string }) => c.name.startsWith('every value decrypts'));
    expect(decrypt.detail).toContain(`exchange_api_keys.api_secret_encrypted ids ${ids[7]}`);
    expect(decrypt.detail).toContain(`exchange_api_keys.passphrase_encrypted ids ${ids[13]}`);
    // The app cannot read those rows either: its check route (the health URL) says so, a warning (a real run goes on
    // past an unhealthy service: its restart may bring it up), not a failure (engine/preflight.ts).
    expect(failing.map((c: { name: string }) => c.name)).toEqual([decrypt.name]);
    const health = failedDoc.results[0].checks.find((c: { name: string }) => c.name === 'service backend is healthy');
    expect(health).toMatchObject({ ok: true, detail: expect.stringContaining('warning: service backend is not healthy now') });

    // A real run refuses too, before any write.
    const real = await cli(['exchange-key', '--yes', '--json']);
    expect(real.code).toBe(1);
    expect(JSON.parse(real.stdout).results[0]).toMatchObject({ status: 'failed', error: { code: 'PREFLIGHT_FAILED' } });
    expect(await snapshot()).toEqual(broken);
    expect(envText()).toBe(ENV_TEXT);
    expect(existsSync(join(dir, 'child-argv.log'))).toBe(false);
    expect(findLeaks({ out: dry.stdout + dry.stderr + real.stdout + real.stderr }, [OLD, ...pyFernetKeys([OLD])])).toEqual([]);
  });

  /** Starts `rotate exchange-key --yes` in `dir`; SIGKILL it with the returned function. */
  function startRotate(): { kill(): Promise<void> } {
    const child = spawn(process.execPath, [CLI, 'exchange-key', '--yes'], {
      cwd: dir,
      env: { ...process.env, ROTATE_MASTER_KEY: masterKey, NO_COLOR: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('close', r));
    return {
      async kill() {
        child.kill('SIGKILL');
        await exited;
      },
    };
  }

  /** The value of `name` in the env file, or undefined. */
  const envValue = (name: string): string | undefined => env()[name];

  it('a kill in the middle of the batched re-encryption: the file holds both keys, resume puts every row back under the old key', async () => {
    const distinct = SAMPLE.slice(0, 16);
    const count = 30_000;
    await seedLarge(count, distinct);
    writeConfig({ batchSize: 250 });

    const run = startRotate();
    // The new key is staged in the file before the first batch commits; a batch has committed once the first row
    // (in key order, the first batch) decrypts under it.
    expect(await waitUntil(() => envValue(`${KEY}_NEXT`) !== undefined, 20_000, 20)).toBe(true);
    const staged = envValue(`${KEY}_NEXT`)!;
    const stagedKey = deriveFernetKey(staged, { salt: 'crypto_orchestrator_salt', iterations: 100_000 });
    const firstRow = async () =>
      (await db.query<Row>('SELECT api_key_encrypted FROM exchange_api_keys ORDER BY id LIMIT 1')).rows[0]!.api_key_encrypted;
    expect(await waitUntil(async () => fernetDecrypt(stagedKey, await firstRow()) !== undefined, 20_000, 20)).toBe(true);
    const atKill = journalSteps(dir, 'exchange-key');
    await run.kill();
    expect(atKill.map((s) => `${s.name}:${s.state}`).slice(0, 3)).toEqual(['write-stage:started', 'write-stage:done', 'apply:started']);
    // Killed between two batches: some rows under the new key, the others under the old; both keys in the file.
    expect(envValue(KEY)).toBe(OLD);
    expect(envValue(`${KEY}_NEXT`)).toBe(staged);
    expect(envText()).toBe(`${ENV_TEXT}\n${KEY}_NEXT=${staged}`);
    const mid = pyRead(await snapshot(), [OLD, staged]).keys;
    expect(mid).not.toContain(-1);
    expect(mid).toContain(0);
    expect(mid).toContain(1);

    const status = await cli(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain('rotate resume');

    const resume = await cli(['resume', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout).results[0].status).toBe('undone');
    // The file exactly as before (no staging variable left); every row back under the old key.
    expect(envText()).toBe(ENV_TEXT);
    const rows = await snapshot();
    expect(rows).toHaveLength(count);
    expectAllUnder(
      rows,
      [OLD, staged],
      0,
      rows.map((r) => distinct[r.user_id % distinct.length]!),
    );
    expect((await cli(['status'])).code).toBe(0);
    expect(
      findLeaks({ out: resume.stdout + resume.stderr + status.stdout + status.stderr, ...readTree(join(dir, '.rotate')) }, [OLD, staged]),
    ).toEqual([]);
  }, 60_000);

  it('a kill once the new key is staged: resume removes the staging variable and leaves every row under the old key', async () => {
    await seed(SAMPLE);
    writeConfig();
    const run = startRotate();
    expect(
      await waitUntil(() => journalSteps(dir, 'exchange-key').some((s) => s.name === 'write-stage' && s.state === 'done'), 20_000, 10),
    ).toBe(true);
    await run.kill();
    const staged = envValue(`${KEY}_NEXT`);
    const resume = await cli(['resume', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    // Killed anywhere from the staging write on (the run may have gone further): undone, or finished.
    const status = JSON.parse(resume.stdout).results[0].status;
    expect(['undone', 'rotated']).toContain(status);
    const now = envValue(KEY)!;
    expect(envText()).toBe(ENV_TEXT.replace(OLD, now));
    if (status === 'undone') expect(now).toBe(OLD);
    expectAllUnder(await snapshot(), [now], 0, SAMPLE);
    expect((await cli(['status'])).code).toBe(0);
    expect(
      findLeaks({ out: resume.stdout + resume.stderr, ...readTree(join(dir, '.rotate')) }, [OLD, now, ...(staged ? [staged] : [])]),
    ).toEqual([]);
  });

  it('a kill after the env file was written: resume puts the old key back in the file and every row under it', async () => {
    await seed(SAMPLE);
    await app.start();
    writeConfig({ restartPrefix: HANGING_RESTART });
    await killInRestart(dir, 'exchange-key', ['exchange-key', '--yes'], { ROTATE_MASTER_KEY: masterKey });

    const written = env()[KEY]!;
    expect(written).not.toBe(OLD); // killed after the new key was written and the rows re-encrypted
    // The old key stays in the file until no row is under it; the staging variable is gone.
    expect(envText()).toBe(`${ENV_TEXT.replace(OLD, written)}\n${KEY}_PREVIOUS=${OLD}`);
    expectAllUnder(await snapshot(), [written], 0, SAMPLE);

    expect((await cli(['status'])).code).toBe(3);
    expect((await cli(['exchange-key', '--yes'])).code).toBe(3);

    writeConfig();
    const resume = await cli(['resume', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout).results[0].status).toBe('undone');
    expect(envText()).toBe(ENV_TEXT);
    expectAllUnder(await snapshot(), [env()[KEY]!, written], 0, SAMPLE);
    expect(await check()).toMatchObject({ status: 200, body: { rows: SAMPLE.length } });
    expect((await cli(['status'])).code).toBe(0);
    expect(findLeaks({ out: resume.stdout + resume.stderr, ...readTree(join(dir, '.rotate')) }, [OLD, written])).toEqual([]);
  });

  it('rolls back when the restarted app cannot read the re-encrypted rows (it started on a stale env file)', async () => {
    await seed(SAMPLE);
    await app.start();
    writeFileSync(join(dir, 'stale.env'), ENV_TEXT);
    writeConfig({ restart: app.restartCommand.replace('--env-file .env', '--env-file stale.env'), healthTimeout: 3 });
    const before = await snapshot();

    const result = await cli(['exchange-key', '--yes', '--json']);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0].status).toBe('rolled-back');
    expect(doc.results[0].error.message).toContain('/api/exchange-keys/check');
    expect(envText()).toBe(ENV_TEXT);
    const after = await snapshot();
    expect(after).toHaveLength(before.length);
    expectAllUnder(after, [OLD], 0, SAMPLE);
    expect(await check()).toMatchObject({ status: 200, body: { rows: SAMPLE.length } });
    const history = JSON.parse((await cli(['history', 'exchange-key', '--json'])).stdout).results;
    expect(history[0]).toMatchObject({ result: 'rolled-back' });
    expect((await cli(['status'])).code).toBe(0);
  });

  it('with a static health page, verify.url still catches an app that did not load the new key', async () => {
    await seed(SAMPLE);
    await app.start();
    writeFileSync(join(dir, 'stale.env'), ENV_TEXT);
    writeConfig({
      restart: app.restartCommand.replace('--env-file .env', '--env-file stale.env'),
      healthPath: '/healthz',
      verifyPath: '/api/exchange-keys/check',
    });
    const result = await cli(['exchange-key', '--yes', '--json']);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0]).toMatchObject({ status: 'rolled-back', error: { code: 'VERIFY_FAILED' } });
    expect(doc.results[0].error.message).toContain('the app decrypts the stored keys');
    expect(envText()).toBe(ENV_TEXT);
    expectAllUnder(await snapshot(), [OLD], 0, SAMPLE);
    expect(await check()).toMatchObject({ status: 200, body: { rows: SAMPLE.length } });
  });

  it('rollback after a rotation puts the old key back and every row under it', async () => {
    await seed(SAMPLE);
    await app.start();
    const first = await cli(['exchange-key', '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const next = env()[KEY]!;
    expect(next).not.toBe(OLD);

    const back = await cli(['rollback', 'exchange-key', '--yes', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).results[0].status).toBe('restored');
    expect(envText()).toBe(ENV_TEXT);
    expectAllUnder(await snapshot(), [OLD, next], 0, SAMPLE);
    expect(await check()).toMatchObject({ status: 200, body: { rows: SAMPLE.length } });
    expect(findLeaks({ out: back.stdout + back.stderr, ...readTree(join(dir, '.rotate')) }, [OLD, next])).toEqual([]);
  });
});

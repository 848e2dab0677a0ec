// Undoing an exchange-key rotation while the app writes: the stand-in app encrypts each new row with the key it read
// at its start, so its key changes at each restart. Whatever the undo does, and wherever it is killed, every row must
// end up readable (by Python's Fernet, not rotate's) under a key the env file holds.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import dotenv from 'dotenv';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { CLI, freePort, runCli, scratchDir } from '../helpers/cli.js';
import { pyDecrypt, pyEncrypt } from '../helpers/python-fernet.js';
import { scratchDatabase } from '../helpers/scratch-database.js';
import { HELD_RESTART, heldInRestart, pidsIn, releaseRestart, waitUntil } from '../helpers/wait.js';

const database = scratchDatabase('rotate_xku');
const OLD = 'default-encryption-key-change-in-production-32-chars!';
const KEY = 'EXCHANGE_KEY_ENCRYPTION_KEY';
const COLUMNS = ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'] as const;
const ENV_TEXT = `${KEY}=${OLD}\nDATABASE_URL=${database.url}\n`;
const SEEDED = Array.from({ length: 20 }, (_, i) => [`seed-${i}`, `seed-secret-${i}`]);
const MASTER_KEY = 'b'.repeat(64);

/** A restart command prefix that lets the first restart through and holds every later one (see HELD_RESTART). */
const HOLD_LATER_RESTARTS = `n=$(( $(cat restarts.count 2>/dev/null || echo 0) + 1 )); echo $n > restarts.count; if [ $n -ge 2 ]; then ${HELD_RESTART}fi; `;
/** Lets the first restart through; every later one hangs (its shell's pids in restart.pids) until killed. */
const HANG_LATER_RESTARTS = `n=$(( $(cat restarts.count 2>/dev/null || echo 0) + 1 )); echo $n > restarts.count; if [ $n -ge 2 ]; then sleep 30 & echo $$ $! > restart.pids; wait $!; fi; `;

let db: pg.Client;
beforeAll(async () => {
  db = await database.create();
});
afterAll(() => database.drop());

interface Row {
  id: number;
  api_key_encrypted: string;
  api_secret_encrypted: string;
  passphrase_encrypted: string | null;
}

describe('exchange-key: undo under a concurrent writer whose key changes at each restart', () => {
  let dir: string;
  let app: StandInApp;
  let verifyServer: Server;
  let verifyUrl: string;
  /** The verify URL's answers: the first fails (the rotation's verify), later ones pass (the undo's check). */
  let verifyCalls = 0;
  let writer: { stop(): Promise<string[]> } | undefined;

  const envText = () => readFileSync(join(dir, '.env'), 'utf8');
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });

  /**
   * The app's /healthz, not its check route: with a writer running, rows the old app writes with the old key until
   * its restart are only swept to the new key by verify, after the restart (the check route would fail until then).
   */
  function writeConfig(restartPrefix = '') {
    const config = {
      services: {
        backend: {
          restart: `${restartPrefix}${app.restartCommand}`,
          health: { url: `${app.url}/healthz`, timeoutSeconds: 15 },
        },
      },
      secrets: { 'exchange-key': { kind: 'exchange-key', services: ['backend'], batchSize: 7, verify: { url: verifyUrl } } },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  }

  /** Posts new exchange keys to the app until stopped; returns the api_key of every row the app stored (201). */
  function startWriter(): { stop(): Promise<string[]>; count(): number } {
    let stopped = false;
    const stored: string[] = [];
    const loop = (async () => {
      for (let i = 0; !stopped; i++) {
        const plain = `written-${i}`;
        try {
          const response = await fetch(`${app.url}/api/exchange-keys`, {
            method: 'POST',
            body: JSON.stringify({ api_key: plain, api_secret: `${plain}-secret` }),
          });
          if (response.status === 201) stored.push(plain);
        } catch {
          await sleep(20); // the app is restarting: try again shortly, do not spin
        }
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
        return stored;
      },
      count: () => stored.length,
    };
  }

  /**
   * Every row, read by Python's Fernet under the keys the env file holds now: none is unreadable, and the
   * plaintexts are the seeded ones and every one the writer stored.
   */
  async function expectEveryRowReadable(stored: string[]): Promise<void> {
    const env = dotenv.parse(envText());
    const keys = Object.entries(env)
      .filter(([name]) => name.startsWith(KEY))
      .map(([, value]) => value);
    const rows = (await db.query<Row>('SELECT * FROM exchange_api_keys ORDER BY id')).rows;
    const reads = pyDecrypt(
      keys,
      rows.flatMap((r) => COLUMNS.map((c) => r[c])),
    );
    const unreadable = rows.filter((_, i) => COLUMNS.some((_, c) => reads[i * 3 + c]!.key === -1)).map((r) => r.id);
    expect(unreadable, `rows no key of the env file (${Object.keys(env).join(', ')}) decrypts`).toEqual([]);
    const plains = rows.map((_, i) => reads[i * 3]!.plain);
    expect(plains).toEqual(expect.arrayContaining([...SEEDED.map(([k]) => k), ...stored]));
  }

  beforeEach(async () => {
    dir = scratchDir('rotate-xku-');
    writeFileSync(join(dir, '.env'), ENV_TEXT);
    await db.query('DROP TABLE IF EXISTS exchange_api_keys');
    await db.query(`CREATE TABLE exchange_api_keys (id serial PRIMARY KEY, user_id integer NOT NULL DEFAULT 1,
      api_key_encrypted text NOT NULL, api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL)`);
    const tokens = pyEncrypt(OLD, SEEDED.flat());
    for (let i = 0; i < SEEDED.length; i++) {
      await db.query('INSERT INTO exchange_api_keys (api_key_encrypted, api_secret_encrypted) VALUES ($1, $2)', [
        tokens[i * 2],
        tokens[i * 2 + 1],
      ]);
    }
    verifyCalls = 0;
    const port = await freePort();
    verifyServer = createServer((_req, res) => {
      verifyCalls++;
      res.writeHead(verifyCalls === 1 ? 500 : 200).end();
    });
    await new Promise<void>((r) => verifyServer.listen(port, '127.0.0.1', r));
    verifyUrl = `http://127.0.0.1:${port}/check`;
    app = await standInApp(dir);
    await app.start();
  });

  afterEach(async () => {
    await writer?.stop();
    writer = undefined;
    await app.stop();
    await new Promise((r) => verifyServer.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("a failed verify's rollback: the app's rows written with the new key before the undo's restart end up under the old key", async () => {
    writeConfig(HOLD_LATER_RESTARTS);
    const w = startWriter();
    writer = w;
    const run = cli(['exchange-key', '--yes', '--json']);
    // The undo's restart is held: the app still runs with the new key and keeps writing with it.
    expect(await waitUntil(() => heldInRestart(dir), 60_000)).toBe(true);
    const before = w.count();
    expect(await waitUntil(() => w.count() >= before + 10, 20_000)).toBe(true);
    releaseRestart(dir);
    const result = await run;
    expect(result.code, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout).results[0]).toMatchObject({ status: 'rolled-back', error: { code: 'VERIFY_FAILED' } });
    expect(await waitUntil(() => w.count() >= before + 20, 20_000)).toBe(true); // and with the old key after it
    const stored = await w.stop();
    expect(envText()).toBe(ENV_TEXT);
    await expectEveryRowReadable(stored);
    expect((await cli(['status'])).code).toBe(0);
  });

  it('rotate rollback exchange-key: rows the app writes with the rotated key until its restart end up under the old key', async () => {
    writeConfig();
    verifyCalls = 1; // every verify passes
    const first = await cli(['exchange-key', '--yes']);
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(join(dir, 'restarts.count'), '1');
    writeConfig(HOLD_LATER_RESTARTS);
    const w = startWriter();
    writer = w;
    const run = cli(['rollback', 'exchange-key', '--yes', '--json']);
    expect(await waitUntil(() => heldInRestart(dir), 60_000)).toBe(true);
    const before = w.count();
    expect(await waitUntil(() => w.count() >= before + 10, 20_000)).toBe(true);
    releaseRestart(dir);
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).results[0].status).toBe('restored');
    const stored = await w.stop();
    expect(envText()).toBe(ENV_TEXT);
    await expectEveryRowReadable(stored);
  });

  /** Runs `rotate exchange-key --verbose` and SIGKILLs it once its trace names `line`. */
  async function killAt(line: string): Promise<void> {
    const child: ChildProcess = spawn(process.execPath, [CLI, 'exchange-key', '--yes', '--verbose'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ROTATE_MASTER_KEY: MASTER_KEY },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise((resolve) => child.on('close', resolve));
    const seen = new Promise<boolean>((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes(line)) {
          child.kill('SIGKILL');
          resolve(true);
        }
      });
      child.on('close', () => resolve(false));
    });
    const killed = await seen;
    await exited;
    // A restart shell the dead run left hanging (HANG_LATER_RESTARTS) is ended with it.
    for (const pid of pidsIn(join(dir, 'restart.pids'))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (!killed) throw new Error(`the run ended before its trace said "${line}":\n${stderr}`);
  }

  // Up to the undo's restart, that restart hangs (so a kill never leaves a restart shell racing the resume).
  it.each([
    { line: 'engine: rollback: stage the new value beside the old one', prefix: HANG_LATER_RESTARTS },
    { line: 'engine: rollback: restart', prefix: HANG_LATER_RESTARTS },
    { line: 'engine: rollback: undo apply exchange-key', prefix: HANG_LATER_RESTARTS },
    { line: 'engine: rollback: sweep exchange-key', prefix: '' },
    { line: 'engine: rollback: verify the old value of exchange-key', prefix: '' },
    { line: 'engine: rollback: remove the staged new value', prefix: '' },
  ])('killed at $line, then resumed: no row is left under a key the env file does not hold', async ({ line, prefix }) => {
    writeConfig(prefix);
    const w = startWriter();
    writer = w;
    await killAt(line);
    const before = w.count();
    expect(await waitUntil(() => w.count() >= before + 5, 20_000)).toBe(true);
    writeConfig();
    const resume = await cli(['resume', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout).results[0].status).toBe('undone');
    const after = w.count();
    expect(await waitUntil(() => w.count() >= after + 5, 20_000)).toBe(true);
    const stored = await w.stop();
    expect(envText()).toBe(ENV_TEXT);
    await expectEveryRowReadable(stored);
    expect((await cli(['status'])).code).toBe(0);
  });
});

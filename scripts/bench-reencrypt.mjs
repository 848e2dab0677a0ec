#!/usr/bin/env node
// npm run bench:reencrypt -- --rows N [--batch 2000] [--commit per-batch|once] [--admin-url postgresql://postgres@127.0.0.1:5432/test] [--json]
//
// Seeds N platform-shaped rows in a scratch database and measures, back to back in one run:
//   1. PostgreSQL's rewrite floor: the same rows rewritten in the same batches with no crypto
//      (cursor FETCH + `UPDATE ... SET col = col WHERE id = ANY($1)`, one transaction);
//   2. the crypto floor: a plain node:crypto loop (decode, HMAC check, AES-CBC decrypt, then encrypt, HMAC, encode;
//      one value at a time) on one worker thread per core over the same number of values;
//   3. `rotate exchange-key --yes`, the built CLI in its own process (wall time, and its apply step from the journal),
//      while a concurrent writer updates random rows of the table (its longest wait is the lock wait an app sees);
// then both floors again (the machine may be shared: the floors are the means of before and after), and prints the
// ratio rotate / (PostgreSQL floor + crypto floor), rows/s, and the CLI process's peak RSS (from /usr/bin/time).
// Targets (#15): ratio <= 1.0 for the apply step, peak RSS < 256 MB; exit 1 when one is missed. It prints the writer's
// longest write and its longest wait on a lock beside one batch's average time (apply / number of batches).
// Needs `npm run build` first (npm run bench:reencrypt does it).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { deriveFernetKey, deriveFernetKeyText, fernetEncrypt } from '../dist/secrets/exchange-key/fernet.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '2000' },
    commit: { type: 'string', default: 'per-batch' },
    'admin-url': { type: 'string', default: process.env.ROTATE_BENCH_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/test' },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(args.rows);
const batchSize = Number(args.batch);
const commit = args.commit;
const adminUrl = args['admin-url'];
const root = resolve(import.meta.dirname, '..');
const dbName = `rotate_xk_bench_${randomBytes(4).toString('hex')}`;
const dbUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();
const OLD = randomBytes(32).toString('base64url');
const KDF = { salt: 'crypto_orchestrator_salt', iterations: 100_000 };
const say = (line) => process.stderr.write(`${line}\n`);
const seconds = (ms) => +(ms / 1000).toFixed(2);

/** CPU seconds (user + system) a process or thread has used, from /proc; undefined once it is gone. */
function cpuOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of the PostgreSQL backends serving `application` in the bench database while `work` runs (sampled every
 * 20 ms; the server runs on this machine). Wall time on a shared machine depends on the load; CPU time much less.
 */
async function backendCpu(application, work) {
  const watcher = new pg.Client({ connectionString: adminUrl });
  await watcher.connect();
  const seen = new Map();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const { rows: found } = await watcher.query('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [
        dbName,
        application,
      ]);
      for (const { pid } of found) seen.set(pid, seen.get(pid) ?? 0);
      for (const pid of seen.keys()) seen.set(pid, cpuOf(pid) ?? seen.get(pid));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const result = await work();
    return [result, [...seen.values()].reduce((a, b) => a + b, 0)];
  } finally {
    sampling = false;
    await sampler;
    await watcher.end();
  }
}

async function admin(sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** 1,000 distinct tokens per column; the table cycles through them (each row still decrypts and re-encrypts). */
function sampleTokens() {
  const key = deriveFernetKey(OLD, KDF);
  const make = (prefix) => Array.from({ length: 1000 }, (_, i) => fernetEncrypt(key, `${prefix}-${i}-${randomBytes(24).toString('hex')}`));
  return { key: make('key'), secret: make('secret'), pass: make('pass') };
}

async function seed(db, tokens) {
  await db.query(`CREATE TABLE exchange_api_keys (id serial PRIMARY KEY, user_id int NOT NULL, exchange text NOT NULL,
    api_key_encrypted text NOT NULL, api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL,
    created_at timestamptz NOT NULL DEFAULT now())`);
  await db.query(
    `INSERT INTO exchange_api_keys (user_id, exchange, api_key_encrypted, api_secret_encrypted, passphrase_encrypted)
     SELECT i % 5000, 'binance', ($1::text[])[1 + i % 1000], ($2::text[])[1 + (i * 7) % 1000],
            CASE WHEN i % 3 = 0 THEN NULL WHEN i % 10 = 1 THEN '' ELSE ($3::text[])[1 + (i * 13) % 1000] END
     FROM generate_series(1, $4::int) AS i`,
    [tokens.key, tokens.secret, tokens.pass, rows],
  );
  await db.query('VACUUM ANALYZE exchange_api_keys');
  const { rows: counted } = await db.query(
    `SELECT count(*) FILTER (WHERE api_key_encrypted <> '') + count(*) FILTER (WHERE api_secret_encrypted <> '')
          + count(*) FILTER (WHERE passphrase_encrypted <> '') AS n FROM exchange_api_keys`,
  );
  return Number(counted[0].n);
}

/** Floor 1: PostgreSQL's own time to rewrite the same rows in the same batches, without crypto. */
async function databaseFloor(db) {
  await db.query('VACUUM FULL ANALYZE exchange_api_keys'); // same layout as rotate sees
  const [elapsed, cpu] = await backendCpu('bench floor', () => databaseRewrite(db));
  await db.query('VACUUM FULL ANALYZE exchange_api_keys');
  return { ms: elapsed, cpu };
}

async function databaseRewrite(db) {
  const started = performance.now();
  await db.query('BEGIN');
  await db.query('DECLARE plain_rewrite NO SCROLL CURSOR FOR SELECT id FROM exchange_api_keys');
  for (;;) {
    const { rows: batch } = await db.query({ text: `FETCH ${batchSize} FROM plain_rewrite`, rowMode: 'array' });
    if (batch.length === 0) break;
    await db.query(
      `UPDATE exchange_api_keys SET api_key_encrypted = api_key_encrypted, api_secret_encrypted = api_secret_encrypted,
       passphrase_encrypted = passphrase_encrypted WHERE id = ANY($1::int[])`,
      [batch.map((r) => r[0])],
    );
  }
  await db.query('COMMIT');
  return performance.now() - started;
}

// A plain loop, one value at a time, as anyone would write it on node:crypto: decode, check the HMAC, AES-CBC
// decrypt; then a new IV, AES-CBC encrypt, HMAC, encode. Keys are split once per worker.
const FLOOR_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } = require('node:crypto');
const key = (text) => { const raw = Buffer.from(text, 'base64url'); return { sign: raw.subarray(0, 16), enc: raw.subarray(16) }; };
const from = key(workerData.from);
const to = key(workerData.to);
const tokens = workerData.tokens;
function decrypt(token) {
  const data = Buffer.from(token, 'base64url');
  const mac = createHmac('sha256', from.sign).update(data.subarray(0, data.length - 32)).digest();
  if (data[0] !== 0x80 || !timingSafeEqual(mac, data.subarray(data.length - 32))) throw new Error('bad sample token');
  const decipher = createDecipheriv('aes-128-cbc', from.enc, data.subarray(9, 25));
  return Buffer.concat([decipher.update(data.subarray(25, data.length - 32)), decipher.final()]);
}
function encrypt(plain, now) {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', to.enc, iv);
  const head = Buffer.alloc(9);
  head[0] = 0x80;
  head.writeBigUInt64BE(BigInt(now), 1);
  const signed = Buffer.concat([head, iv, cipher.update(plain), cipher.final()]);
  const mac = createHmac('sha256', to.sign).update(signed).digest();
  return Buffer.concat([signed, mac]).toString('base64url');
}
parentPort.postMessage('ready');
parentPort.once('message', (count) => {
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < count; i++) encrypt(decrypt(tokens[i % tokens.length]), now);
  parentPort.postMessage('done');
});`;

/** Floor 2: decrypt + re-encrypt `values` Fernet values, spread over one worker per core (started beforehand). */
async function cryptoFloor(values, tokens) {
  const cores = availableParallelism();
  const sample = [...tokens.key, ...tokens.secret, ...tokens.pass];
  const workerData = {
    from: deriveFernetKeyText(OLD, KDF),
    to: deriveFernetKeyText(randomBytes(32).toString('base64url'), KDF),
    tokens: sample,
  };
  const workers = Array.from({ length: cores }, () => new Worker(FLOOR_WORKER, { eval: true, workerData }));
  const next = (worker) =>
    new Promise((resolveMessage, reject) => {
      worker.once('message', resolveMessage);
      worker.once('error', reject);
    });
  try {
    await Promise.all(workers.map(next));
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const done = workers.map(next);
    for (const [w, worker] of workers.entries()) worker.postMessage(Math.floor(values / cores) + (w < values % cores ? 1 : 0));
    await Promise.all(done);
    const cpu = process.cpuUsage(cpuBefore);
    return { ms: performance.now() - started, cpu: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/**
 * Updates random rows (a column rotate does not touch), one statement at a time, and keeps the longest wait; a second
 * connection samples (every 10 ms) how long the writer has been waiting on a lock (`wait_event_type` Lock), which
 * tells a row lock held by rotate from other latency (WAL flushes, a loaded machine).
 */
function concurrentWriter() {
  const client = new pg.Client({ connectionString: dbUrl, application_name: 'bench writer' });
  const watcher = new pg.Client({ connectionString: dbUrl, application_name: 'bench writer watcher' });
  const state = { writes: 0, longestMs: 0, longestLockMs: 0, running: true };
  const loop = (async () => {
    await client.connect();
    while (state.running) {
      const id = 1 + Math.floor(Math.random() * rows);
      const started = performance.now();
      await client.query('UPDATE exchange_api_keys SET user_id = user_id WHERE id = $1', [id]);
      state.longestMs = Math.max(state.longestMs, performance.now() - started);
      state.writes++;
      await new Promise((r) => setTimeout(r, 20)); // ~40 writes/s: an app, not a load test
    }
    await client.end();
  })();
  const sampling = (async () => {
    await watcher.connect();
    while (state.running) {
      const { rows: waiting } = await watcher.query(
        `SELECT coalesce(max(extract(epoch FROM clock_timestamp() - query_start)) * 1000, 0)::float8 AS ms
         FROM pg_stat_activity WHERE application_name = 'bench writer' AND wait_event_type = 'Lock'`,
      );
      state.longestLockMs = Math.max(state.longestLockMs, waiting[0].ms);
      await new Promise((r) => setTimeout(r, 10));
    }
    await watcher.end();
  })();
  return {
    state,
    stop: async () => {
      state.running = false;
      await Promise.all([loop, sampling]);
      return state;
    },
  };
}

/** `rotate exchange-key --yes` in its own process under /usr/bin/time; the journal is polled for the apply step. */
async function rotate() {
  const dir = mkdtempSync(join(tmpdir(), 'rotate-bench-'));
  writeFileSync(join(dir, '.env'), `EXCHANGE_KEY_ENCRYPTION_KEY=${OLD}\nDATABASE_URL=${dbUrl}\n`);
  writeFileSync(
    join(dir, 'rotate.config.json'),
    JSON.stringify({
      // A restart that does nothing: rotate refuses a rotation that no service picks up (NO_RESTART).
      services: { app: { restart: 'true' } },
      secrets: { 'exchange-key': { kind: 'exchange-key', batchSize, commit, services: ['app'] } },
    }),
  );
  const journals = join(dir, '.rotate/journal');
  const steps = new Map();
  const poll = setInterval(() => {
    try {
      for (const name of readdirSync(journals).filter((n) => n.endsWith('.json'))) {
        // One journal per run: the run's own steps, and each secret's.
        const journal = JSON.parse(readFileSync(join(journals, name), 'utf8'));
        const entry = journal.secrets?.find((secret) => secret.secret === 'exchange-key');
        for (const step of [...(journal.steps ?? []), ...(entry?.steps ?? [])])
          steps.set(`${step.name}:${step.state}`, Date.parse(step.at));
      }
    } catch {
      // not written yet, or being replaced
    }
  }, 10);
  const writer = concurrentWriter();
  let finish;
  try {
    const started = performance.now();
    const startedAt = Date.now();
    const watched = backendCpu('rotate exchange-key', () => new Promise((r) => (finish = r)));
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'maxrss %M cpu %U %S', process.execPath, join(root, 'dist/bin/rotate.js'), 'exchange-key', '--yes'],
      {
        cwd: dir,
        env: { ...process.env, ROTATE_MASTER_KEY: randomBytes(32).toString('hex'), NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise((r) => child.on('close', r));
    const wallMs = performance.now() - started;
    finish();
    const [, databaseCpu] = await watched;
    if (code !== 0) throw new Error(`rotate exited ${code}:\n${output}`);
    const env = readFileSync(join(dir, '.env'), 'utf8');
    if (env.includes(OLD)) throw new Error('rotate succeeded but the env file still holds the old key');
    const applyMs = steps.get('apply:done') - steps.get('apply:started');
    if (!Number.isFinite(applyMs)) throw new Error('the journal never showed the apply step');
    const [, rssKb, user, system] = /maxrss (\d+) cpu ([\d.]+) ([\d.]+)/.exec(output) ?? [];
    // The journal appears when apply starts: what comes before it is start-up, preflight and generate.
    const firstStep = Math.min(...steps.values());
    const phases = { 'before apply': firstStep - startedAt };
    for (const name of ['write-stage', 'apply', 'write-target', 'verify', 'retire', 'write-retire-target', 'verify-retired']) {
      const ms = steps.get(`${name}:done`) - steps.get(`${name}:started`);
      if (Number.isFinite(ms)) phases[name] = ms;
    }
    return {
      wallMs,
      applyMs,
      phases,
      peakRssMB: Math.round(Number(rssKb) / 1024),
      cpu: Number(user) + Number(system) + databaseCpu,
      writer: await writer.stop(),
    };
  } finally {
    clearInterval(poll);
    if (writer.state.running) await writer.stop().catch(() => {});
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

await admin(`CREATE DATABASE ${dbName}`);
const db = new pg.Client({ connectionString: dbUrl, application_name: 'bench floor' });
let exit = 0;
try {
  await db.connect();
  say(`seeding ${rows} rows in ${dbName}...`);
  const tokens = sampleTokens();
  const values = await seed(db, tokens);
  say(`load before: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  say('floors...');
  const dbBefore = await databaseFloor(db);
  const cryptoBefore = await cryptoFloor(values, tokens);
  say('rotate exchange-key...');
  const run = await rotate();
  say('floors again...');
  const dbAfter = await databaseFloor(db);
  const cryptoAfter = await cryptoFloor(values, tokens);
  say(`load after: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const floor = (dbBefore.ms + dbAfter.ms) / 2 + (cryptoBefore.ms + cryptoAfter.ms) / 2;
  const floorCpu = (dbBefore.cpu + dbAfter.cpu) / 2 + (cryptoBefore.cpu + cryptoAfter.cpu) / 2;
  const result = {
    rows,
    values,
    batchSize,
    databaseFloorSeconds: [seconds(dbBefore.ms), seconds(dbAfter.ms)],
    cryptoFloorSeconds: [seconds(cryptoBefore.ms), seconds(cryptoAfter.ms)],
    floorSeconds: seconds(floor),
    applySeconds: seconds(run.applyMs),
    ratio: +(run.applyMs / floor).toFixed(2),
    rowsPerSecond: Math.round(rows / (run.applyMs / 1000)),
    commandSeconds: seconds(run.wallMs),
    commandRatio: +(run.wallMs / floor).toFixed(2),
    commandPhasesSeconds: Object.fromEntries(Object.entries(run.phases).map(([name, ms]) => [name, seconds(ms)])),
    peakRssMB: run.peakRssMB,
    cpuSeconds: { floors: +floorCpu.toFixed(2), command: +run.cpu.toFixed(2) },
    writerWrites: run.writer.writes,
    longestWriteMs: Math.round(run.writer.longestMs),
    longestLockWaitMs: Math.round(run.writer.longestLockMs),
    commit,
    batchMs: Math.round(run.applyMs / Math.ceil(rows / batchSize)),
  };
  const misses = [result.peakRssMB >= 256 && 'peak RSS >= 256 MB', result.ratio > 1 && 'ratio > 1.0'].filter(Boolean);
  if (args.json) process.stdout.write(`${JSON.stringify({ ...result, targetsMet: misses.length === 0 })}\n`);
  else {
    process.stdout.write(
      `rows ${rows} (${values} encrypted values), batch ${batchSize}, commit ${commit}, ${availableParallelism()} cores\n` +
        `PostgreSQL floor  ${result.databaseFloorSeconds.join('s, ')}s  (no crypto: FETCH + UPDATE SET col = col, same batches; before, after)\n` +
        `crypto floor      ${result.cryptoFloorSeconds.join('s, ')}s  (plain node:crypto decrypt + encrypt, one worker per core; before, after)\n` +
        `apply (rotate)    ${result.applySeconds}s  ${result.rowsPerSecond} rows/s\n` +
        `ratio             ${result.ratio}  (apply / (mean PostgreSQL floor + mean crypto floor) = ${result.applySeconds} / ${result.floorSeconds}; target <= 1.0)\n` +
        `whole command     ${result.commandSeconds}s  (ratio ${result.commandRatio}: process start, preflight, stage, apply, env write, restart, verify, retire)\n` +
        `                  ${Object.entries(result.commandPhasesSeconds)
          .map(([name, s]) => `${name} ${s}s`)
          .join(', ')}\n` +
        `CPU seconds       floors ${result.cpuSeconds.floors}, whole command ${result.cpuSeconds.command}  (process + its PostgreSQL backends; load-independent)\n` +
        `peak RSS          ${result.peakRssMB} MB  (the rotate process, /usr/bin/time; target < 256)\n` +
        `longest write     ${result.longestWriteMs} ms  (a writer updating random rows during the run, ${result.writerWrites} writes)\n` +
        `longest lock wait ${result.longestLockWaitMs} ms  (that writer seen waiting on a lock, sampled every 10 ms; one batch of the apply: ${result.batchMs} ms on average)\n` +
        (misses.length ? `MISSED: ${misses.join(', ')}\n` : 'targets met\n'),
    );
  }
  if (misses.length) exit = 1;
} catch (error) {
  say(`bench failed: ${error?.stack ?? error}`);
  exit = 1;
} finally {
  await db.end().catch(() => {});
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
}
process.exit(exit);

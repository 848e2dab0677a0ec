#!/usr/bin/env node
// npm run bench:reencrypt -- --rows N [--batch 2000] [--admin-url postgresql://postgres@127.0.0.1:5432/test]
// Seeds N platform-shaped rows in a scratch database, rotates the exchange key (the built code in dist/), and prints
// rows/s, peak RSS, and the ratio of the re-encryption's time to PostgreSQL's own rewrite of the same rows in the
// same batches (`UPDATE ... SET col = col`, no crypto; measured before and after the rotation, mean).
// Targets (issue 3): N = 1,000,000 completes, peak RSS < 256 MB, ratio < 3. Exit 1 when a target is missed.
// Needs `npm run build` first.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { secretSchema } from '../dist/config/schema.js';
import { deriveFernetKey, fernetEncrypt } from '../dist/secrets/exchange-key/fernet.js';
import { exchangeKeyRotator } from '../dist/secrets/exchange-key/index.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '2000' },
    'admin-url': { type: 'string', default: process.env.ROTATE_BENCH_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/test' },
    json: { type: 'boolean', default: false },
  },
});
const rows = Number(args.rows);
const batchSize = Number(args.batch);
const adminUrl = args['admin-url'];
const dbName = `rotate_xk_bench_${randomBytes(4).toString('hex')}`;
const dbUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();
const OLD = randomBytes(32).toString('base64url');
const KDF = { salt: 'crypto_orchestrator_salt', iterations: 100_000 };
const say = (line) => process.stderr.write(`${line}\n`);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

async function admin(sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** N rows from 1,000 distinct tokens per column (each row still decrypts and re-encrypts on its own). */
async function seed(db) {
  await db.query(`CREATE TABLE exchange_api_keys (id serial PRIMARY KEY, user_id int NOT NULL, exchange text NOT NULL,
    api_key_encrypted text NOT NULL, api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL,
    created_at timestamptz NOT NULL DEFAULT now())`);
  const key = deriveFernetKey(OLD, KDF);
  const make = (prefix) => Array.from({ length: 1000 }, (_, i) => fernetEncrypt(key, `${prefix}-${i}-${randomBytes(24).toString('hex')}`));
  await db.query(
    `INSERT INTO exchange_api_keys (user_id, exchange, api_key_encrypted, api_secret_encrypted, passphrase_encrypted)
     SELECT i % 5000, 'binance', ($1::text[])[1 + i % 1000], ($2::text[])[1 + (i * 7) % 1000],
            CASE WHEN i % 3 = 0 THEN NULL WHEN i % 10 = 1 THEN '' ELSE ($3::text[])[1 + (i * 13) % 1000] END
     FROM generate_series(1, $4::int) AS i`,
    [make('key'), make('secret'), make('pass'), rows],
  );
  await db.query('VACUUM ANALYZE exchange_api_keys');
}

/** PostgreSQL's own time to rewrite the same rows in the same batches, without crypto. */
async function baseline(db) {
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
  return (performance.now() - started) / 1000;
}

function context(env) {
  const log = { info: () => {}, warn: () => {}, debug: () => {} };
  return {
    id: 'exchange-key',
    config: secretSchema.parse({ kind: 'exchange-key', batchSize }),
    env,
    envFile: '(bench)',
    configDir: process.cwd(),
    emergency: false,
    unattended: true,
    lastFacts: {},
    deps: {
      now: () => new Date(),
      randomBytes,
      fetch: globalThis.fetch,
      environment: {},
      log,
      progress: (label, total) => {
        let done = 0;
        let shown = 0;
        return {
          tick: (n) => {
            done += n;
            if (done - shown >= total / 10) {
              shown = done;
              say(`  ${label}: ${done}/${total}`);
            }
          },
          done: () => {},
        };
      },
      readSecretInput: async () => ({}),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    },
  };
}

const timed = async (work) => {
  const started = performance.now();
  const result = await work();
  return [(performance.now() - started) / 1000, result];
};

await admin(`CREATE DATABASE ${dbName}`);
const db = new pg.Client({ connectionString: dbUrl });
let exit = 0;
try {
  await db.connect();
  say(`seeding ${rows} rows in ${dbName}...`);
  await seed(db);
  say('PostgreSQL rewrite without crypto...');
  const plainSeconds = await baseline(db);
  await db.query('VACUUM FULL ANALYZE exchange_api_keys');
  const ctx = context({ EXCHANGE_KEY_ENCRYPTION_KEY: OLD, DATABASE_URL: dbUrl });
  say('preflight (test-decrypt every value)...');
  const [preflightSeconds, preflight] = await timed(() => exchangeKeyRotator.preflight(ctx));
  if (preflight.checks.some((c) => !c.ok)) throw new Error(`preflight failed: ${JSON.stringify(preflight.checks)}`);
  const rotation = await exchangeKeyRotator.generate(ctx);
  say('re-encrypting...');
  const [applySeconds] = await timed(() => exchangeKeyRotator.apply(ctx, rotation));
  const after = { ...ctx, env: { ...ctx.env, EXCHANGE_KEY_ENCRYPTION_KEY: rotation.env.EXCHANGE_KEY_ENCRYPTION_KEY.reveal() } };
  say('verify (sweep + every row under the new key)...');
  const [verifySeconds, checks] = await timed(() => exchangeKeyRotator.verify(after, rotation));
  if (checks.some((c) => !c.ok)) throw new Error(`verify failed: ${JSON.stringify(checks)}`);
  // The machine may be shared: measure the plain rewrite again after the rotation (same table size, freshly packed)
  // and compare with the mean of the two, so that drift in background load does not decide the ratio.
  await db.query('VACUUM FULL ANALYZE exchange_api_keys');
  say('PostgreSQL rewrite without crypto, again...');
  const plainAgainSeconds = await baseline(db);
  const plainMean = (plainSeconds + plainAgainSeconds) / 2;
  const ratio = applySeconds / plainMean;
  const result = {
    rows,
    values: preflight.facts.values,
    batchSize,
    rowsPerSecond: Math.round(rows / applySeconds),
    applySeconds: +applySeconds.toFixed(2),
    plainRewriteSeconds: [+plainSeconds.toFixed(2), +plainAgainSeconds.toFixed(2)],
    ratio: +ratio.toFixed(2),
    preflightSeconds: +preflightSeconds.toFixed(2),
    estimatedSeconds: preflight.facts.estimatedSeconds,
    verifySeconds: +verifySeconds.toFixed(2),
    peakRssMB: Math.round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 2 ** 20),
  };
  const misses = [result.peakRssMB >= 256 && 'peak RSS >= 256 MB', ratio >= 3 && 'ratio >= 3'].filter(Boolean);
  if (args.json) process.stdout.write(`${JSON.stringify({ ...result, targetsMet: misses.length === 0 })}\n`);
  else {
    process.stdout.write(
      `rows ${rows} (${result.values} encrypted values), batch ${batchSize}\n` +
        `re-encryption   ${result.applySeconds}s  ${result.rowsPerSecond} rows/s\n` +
        `plain rewrite   ${result.plainRewriteSeconds.join('s, ')}s  (UPDATE ... SET col = col, same batches; before and after)\n` +
        `ratio           ${result.ratio}  (re-encryption / mean plain rewrite; target < 3)\n` +
        `peak RSS        ${result.peakRssMB} MB  (target < 256)\n` +
        `preflight       ${result.preflightSeconds}s (estimated re-encryption ${result.estimatedSeconds}s), verify ${result.verifySeconds}s\n` +
        (misses.length ? `MISSED: ${misses.join(', ')}\n` : 'targets met\n'),
    );
  }
  if (misses.length) exit = 1;
} catch (error) {
  say(`bench failed: ${error?.message ?? error}`);
  exit = 1;
} finally {
  clearInterval(sampler);
  await db.end().catch(() => {});
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
}
process.exit(exit);

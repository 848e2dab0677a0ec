// The config rotate init writes passes `rotate --dry-run --all` on the platform's layout, except for values only a
// person can give, each of which init named: in a folder holding the platform's .env and docker-compose.yml
// (test/fixtures/platform-compose) and from the platform's Secret and workloads in the fake cluster. The values are
// live: a PostgreSQL role owning the platform's table, a Redis server with requirepass, the stand-in app (reading
// the same values) on the compose file's published port, and a stand-in for Stripe's API. Nothing init or the dry
// run prints or writes holds a value.
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/envfile/edit.js';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { type CliResult, findLeaks, ROOT, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube } from '../helpers/fake-kube.js';
import { FakeStripe } from '../helpers/fake-stripe.js';
import { createPlatformWorkloads, PLATFORM_NS as NS, PLATFORM_SECRET as SECRET } from '../helpers/platform-cluster.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { type ScratchDatabase, scratchDatabase } from '../helpers/scratch-database.js';

const MASTER_KEY = 'd'.repeat(64);

/** What a dry run may have left under .rotate/ (nothing, or the store's first files), for the leak grep. */
const storeOf = (dir: string) => (existsSync(join(dir, '.rotate')) ? readTree(join(dir, '.rotate')) : {});
const SHARED = 'postgresql://postgres@127.0.0.1:5432/test';

interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}
interface DryResult {
  secret: string;
  status: string;
  checks?: Check[];
}

/** Every failed check of a dry run's JSON document, as `secret: check (detail)`. */
function failedChecks(result: CliResult): string[] {
  const document = JSON.parse(result.stdout) as { results: DryResult[] };
  return document.results.flatMap((r) => (r.checks ?? []).filter((c) => !c.ok).map((c) => `${r.secret}: ${c.name} (${c.detail ?? ''})`));
}

describe('the config init writes passes rotate --dry-run but for what only a person can give', { timeout: 240_000 }, () => {
  const role = `crypto_${Math.random().toString(36).slice(2, 8)}`;
  const dbPassword = 'db-pass-0123456789-abcdefgh';
  const redisPassword = 'redis-pass-0123456789-abcdefgh';
  let db: ScratchDatabase;
  let redis: PrivateRedis;
  let stripe: FakeStripe;
  let dir: string;
  let app: StandInApp;
  /** The platform's values, live. */
  let values: Record<string, string>;
  /** Every secret value, raw and base64, for the leak greps. */
  let secrets: string[];

  beforeAll(async () => {
    db = scratchDatabase('rotate_init_dry');
    const client = await db.create();
    const admin = new pg.Client({ connectionString: SHARED });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${dbPassword}'`);
    await admin.end();
    await client.query(
      `CREATE TABLE exchange_api_keys (id serial PRIMARY KEY, api_key_encrypted text NOT NULL, api_secret_encrypted text NOT NULL, passphrase_encrypted text);
       ALTER TABLE exchange_api_keys OWNER TO ${role}`,
    );
    redis = await startPrivateRedis({ mode: 'none', password: redisPassword });
    stripe = await FakeStripe.start();
    const fixture = parseEnv(readFileSync(join(ROOT, 'test/fixtures/platform-compose/.env'), 'utf8'));
    const dbPath = `${role}:${dbPassword}@127.0.0.1:5432/${db.name}`;
    values = {
      ...fixture,
      DATABASE_URL: `postgresql+asyncpg://${dbPath}`,
      DATABASE_URL_SYNC: `postgresql://${dbPath}`,
      POSTGRES_USER: role,
      POSTGRES_PASSWORD: dbPassword,
      POSTGRES_DB: db.name,
      REDIS_URL: redis.url(redisPassword, undefined, 0),
      REDIS_PASSWORD: redisPassword,
      CELERY_BROKER_URL: redis.url(redisPassword, undefined, 1),
      CELERY_RESULT_BACKEND: redis.url(redisPassword, undefined, 2),
      STRIPE_SECRET_KEY: stripe.addKey('acct_platform'),
      STRIPE_PUBLISHABLE_KEY: stripe.addKey('acct_platform', { type: 'pk' }),
      // Hostile where a careless renderer would break or show it: quotes, $, a newline, unicode.
      JWT_SECRET: `jwt-'q'-$HOME-\`id\`-\n-\u2603-\u00e9-0123456789abcdefghijklmnop`,
    };
    secrets = Object.entries(values)
      .filter(([key, value]) => /SECRET|PASSWORD|KEY|URL|BACKEND/.test(key) && value !== '')
      .flatMap(([, value]) => [value, JSON.stringify(value).slice(1, -1), Buffer.from(value).toString('base64')])
      .concat([dbPassword, redisPassword]);

    // The platform's folder: its compose file, the backend published on a free port, and its .env with live values.
    dir = scratchDir('rotate-init-dry-');
    cpSync(join(ROOT, 'test/fixtures/platform-compose/docker-compose.yml'), join(dir, 'docker-compose.yml'));
    writeFileSync(
      join(dir, '.env'),
      `${Object.entries(values)
        // Double quotes for the value with a newline: dotenv (the app, rotate) reads \n back as one.
        .map(([key, value]) => (value.includes('\n') ? `${key}="${value.replace(/\n/g, '\\n')}"` : `${key}=${value}`))
        .join('\n')}\n`,
      { mode: 0o600 },
    );
    app = await standInApp(dir);
    const compose = readFileSync(join(dir, 'docker-compose.yml'), 'utf8');
    writeFileSync(join(dir, 'docker-compose.yml'), compose.replace('"8000:8000"', `"${app.port}:8000"`));
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await stripe?.close();
    await redis?.stop();
    await db?.drop();
    const admin = new pg.Client({ connectionString: SHARED });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  /** Stripe's API is api.stripe.com; here, its stand-in (apiBase exists for tests and proxies, CONTRACT.md). */
  const withStripeStandIn = (configPath: string) => {
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    config.secrets.stripe.apiBase = stripe.apiBase;
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    return config;
  };

  it("in the platform's folder (.env + docker-compose.yml): every check passes; init named the JWT claims and Stripe's webhook URL", async () => {
    // --dry-run prints the config init would write, and writes nothing.
    const printed = await runCli(['init', '--dry-run'], { cwd: dir });
    expect(printed.code, printed.stderr).toBe(0);
    expect(existsSync(join(dir, 'rotate.config.json'))).toBe(false);
    const init = await runCli(['init', '--json'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'rotate.config.json'), 'utf8'))).toEqual(JSON.parse(printed.stdout));
    const { undecided } = JSON.parse(init.stdout).results[0];
    expect(undecided.map((u: { path: string }) => u.path)).toEqual(['secrets.jwt.verify.claims', 'secrets.stripe.webhook.url']);
    const config = withStripeStandIn(join(dir, 'rotate.config.json'));
    expect(config.target).toEqual({ type: 'envfile', files: ['.env'] });
    expect(config.services.backend.health.url).toBe(`http://localhost:${app.port}/api/health/ready`);

    // Neither named value stops a dry run: a token for user 1 is checked, and without the webhook's URL only the
    // API keys rotate (the dry run says so). Everything else init decided is right.
    const dry = await runCli(['--dry-run', '--all', '--json'], { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });
    expect(failedChecks(dry), dry.stderr).toEqual([]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).results.map((r: DryResult) => r.secret)).toEqual([
      'jwt',
      'jwt-refresh',
      'exchange-key',
      'database',
      'redis',
      'stripe',
    ]);
    const texts = { ...storeOf(dir), init: init.stdout + init.stderr + printed.stdout + printed.stderr, dry: dry.stdout + dry.stderr };
    expect(findLeaks({ ...texts, config: readFileSync(join(dir, 'rotate.config.json'), 'utf8') }, secrets)).toEqual([]);
  });

  describe('from the platform Secret in the fake cluster (--from-kubernetes)', () => {
    let kube: FakeKube;
    let cwd: string;
    let env: Record<string, string>;

    beforeAll(async () => {
      cwd = scratchDir('rotate-init-dry-kube-');
      kube = await startFakeKube(cwd);
      kube.createSecret(NS, SECRET, values);
      createPlatformWorkloads(kube);
      env = {
        KUBECONFIG: kube.kubeconfig(join(cwd, 'kubeconfig'), [{ name: 'prod', token: ADMIN_TOKEN, namespace: NS }]),
        HOME: cwd,
        ROTATE_MASTER_KEY: MASTER_KEY,
      };
    });
    afterAll(() => kube?.stop());

    it('passes as written; the value init named (the JWT verify URL) adds the check of the app, which passes too', async () => {
      const init = await runCli(['init', '--from-kubernetes', '--json'], { cwd, env });
      expect(init.code, init.stderr).toBe(0);
      const undecided: string[] = JSON.parse(init.stdout).results[0].undecided.map((u: { path: string }) => u.path);
      expect(undecided).toEqual(['secrets.jwt.verify.url', 'secrets.stripe.webhook.verifyUrl', 'secrets.stripe.webhook.url']);
      const path = join(cwd, 'rotate.config.json');
      withStripeStandIn(path);

      // The Secret, its owners, the rights, every workload, the copies, the database and Redis: all pass as written.
      const first = await runCli(['--dry-run', '--all', '--json'], { cwd, env });
      expect(failedChecks(first), first.stderr).toEqual([]);
      expect(first.code, first.stderr).toBe(0);
      const jwtChecks = (result: CliResult) =>
        (JSON.parse(result.stdout).results as DryResult[]).find((r) => r.secret === 'jwt')?.checks?.map((c) => c.name) ?? [];
      expect(jwtChecks(first)).not.toContain('the app accepts a token signed with the current secret');

      // The person gives the value init named (the app, as rotate reaches it): the dry run now checks the app too.
      const config = JSON.parse(readFileSync(path, 'utf8'));
      config.secrets.jwt.verify = { url: `${app.url}/api/auth/me` };
      writeFileSync(path, JSON.stringify(config, null, 2));
      const dry = await runCli(['--dry-run', '--all', '--json'], { cwd, env });
      expect(failedChecks(dry), dry.stderr).toEqual([]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(jwtChecks(dry)).toContain('the app accepts a token signed with the current secret');
      // A dry run writes nothing to the cluster.
      expect(kube.api.writes()).toEqual([]);
      const texts = { ...storeOf(cwd), out: [init, first, dry].map((r) => r.stdout + r.stderr).join('\n') };
      expect(findLeaks({ ...texts, config: readFileSync(path, 'utf8') }, secrets)).toEqual([]);
    });
  });
});

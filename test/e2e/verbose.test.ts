// `--verbose` with the built CLI: each command says on stderr what it does (files read, engine steps, the commands
// it runs, the URLs it checks, the servers it contacts, the store), with timings, and never a value: every output is
// grepped for the old and new values (hostile ones included) and for credentials written into the config. Without
// --verbose none of these lines appear, and with --json stdout stays the one JSON document.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { createAppDatabase, loginWith } from '../helpers/app-database.js';
import { type CliResult, findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { KUBE_E2E, type KubeProject, kubeService, NS, ROLLOUT_SECONDS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import { FakeStripe } from '../helpers/fake-stripe.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { pyEncrypt } from '../helpers/python-fernet.js';
import { scratchDatabase } from '../helpers/scratch-database.js';
import { HANGING_RESTART, killInRestart } from '../helpers/wait.js';

const MASTER_KEY = '9'.repeat(64);
/** A trace line: the elapsed time since rotate started, then what it did. */
const TRACE_LINE = /^\[\+\d+ms\] /m;
/** Credentials written into the config itself: a restart command's assignment and a health URL's query. */
const API_TOKEN = 'restart-api-token-4f9c2e';
const HEALTH_TOKEN = 'health-query-token-8d1a7b';

const apps: StandInApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
});

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `label: done in N ms` (optionally with its outcome) as a line of the trace. */
const done = (label: string, outcome?: string) =>
  new RegExp(`^\\[\\+\\d+ms\\] ${esc(label)}: done in \\d+ ms${outcome ? ` \\(${esc(outcome)}\\)` : '( \\(.*\\))?'}$`, 'm');

/** Every output of a scene, for the leak grep: what rotate printed and what it stored. */
const outputs = (dir: string, results: CliResult[]): Record<string, string> => ({
  ...readTree(join(dir, '.rotate')),
  stdout: results.map((r) => r.stdout).join('\n'),
  stderr: results.map((r) => r.stderr).join('\n'),
});

/** Every piece of a password a leak could show: the whole, and each part between a URL's delimiters. */
const partsOf = (password: string): string[] => [password, ...password.split(/[@%#:'" ]/).filter((part) => part.length >= 6)];

/** A folder whose .env the stand-in app reads, restarted through a command that carries a token, checked on a URL with one. */
async function appScene(envLines: string[], secrets: (app: StandInApp) => Record<string, unknown>, healthPath = '/healthz') {
  const dir = scratchDir('rotate-verbose-');
  writeFileSync(join(dir, '.env'), `${envLines.join('\n')}\n`, { mode: 0o600 });
  const app = await standInApp(dir);
  apps.push(app);
  const writeConfig = (restart = `API_TOKEN=${API_TOKEN} ${app.restartCommand}`) => {
    const config = {
      services: { backend: { restart, health: { url: `${app.url}${healthPath}?token=${HEALTH_TOKEN}`, timeoutSeconds: 20 } } },
      secrets: secrets(app),
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  };
  writeConfig();
  await app.start();
  return {
    dir,
    app,
    writeConfig,
    env: () => dotenv.parse(readFileSync(join(dir, '.env'))),
    cli: (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY, ...env } }),
  };
}

describe('--verbose: jwt', () => {
  const OLD = 'old-signing-secret-verbose-0123456789-abcdef';
  const jwtScene = () =>
    appScene([`JWT_SECRET=${OLD}`, 'APP_ENV=production'], (app) => ({
      jwt: { kind: 'jwt', services: ['backend'], graceHours: 0, verify: { url: `${app.url}/api/auth/me`, claims: { id: '1' } } },
    }));

  it('a rotation traces the files, every engine step with its time, the restart command, each URL and the store; no value', async () => {
    const s = await jwtScene();
    const result = await s.cli(['jwt', '--yes', '--verbose']);
    expect(result.code, result.stderr).toBe(0);
    const next = s.env().JWT_SECRET!;
    expect(next).not.toBe(OLD);
    const err = result.stderr;

    expect(err).toContain(`config: read ${join(s.dir, 'rotate.config.json')}`);
    expect(err).toContain(`env file: ${join(s.dir, '.env')}`);
    expect(err).toMatch(done(`target: read ${join(s.dir, '.env')}`, '2 keys'));
    for (const step of ['preflight jwt', 'generate jwt', 'apply jwt', 'write-target (jwt)', 'restart (jwt)', 'verify jwt', 'retire jwt']) {
      expect(err).toMatch(done(`engine: ${step}`));
    }
    expect(err).toMatch(done('engine: verify-retired jwt'));
    // The restart command as configured, its credential blanked, with its exit code and time.
    const command = `API_TOKEN=[redacted] ${s.app.restartCommand}`;
    expect(err).toMatch(done(`restart backend: /bin/sh -c ${JSON.stringify(command)} in ${s.dir}`, 'exit 0'));
    // The health URL without its query value; the verify URL answering 200 to the new secret, 401 to the old.
    const health = `${s.app.url}/healthz?token=[redacted]`;
    expect(err).toMatch(done(`http: GET ${health}`, 'HTTP 200'));
    expect(err).toMatch(done(`health of backend: wait for ${health} to answer 2xx (up to 20 s)`));
    expect(err).toMatch(done(`http: GET ${s.app.url}/api/auth/me`, 'HTTP 200'));
    expect(err).toMatch(done(`http: GET ${s.app.url}/api/auth/me`, 'HTTP 401'));
    expect(err).toMatch(done('store: take the lock for rotate jwt'));
    expect(err).toMatch(done(`target: write JWT_SECRET to ${join(s.dir, '.env')}`));
    expect(err).toMatch(/store: write the journal of run [0-9a-f-]{36} \(rotate\): done in \d+ ms/);
    expect(err).toMatch(done('store: release the lock'));
    expect(err).toMatch(/^\[\+\d+ms\] rotate: exit 0$/m);
    // Each trace line carries its time; progress lines stay as they were.
    const unstamped = err.split('\n').filter((line) => /^(engine|store|http|target|config|env file|restart \w+): /.test(line));
    expect(unstamped).toEqual([]);
    expect(err).toMatch(/^restarting backend$/m);
    expect(findLeaks(outputs(s.dir, [result]), [OLD, next, API_TOKEN, HEALTH_TOKEN])).toEqual([]);
  });

  it('dry run, verify, status, --due and rollback trace what they do; --json keeps stdout one document', async () => {
    const s = await jwtScene();
    const dry = await s.cli(['--dry-run', 'jwt', '--verbose']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(done('engine: preflight jwt', '2 checks passed'));
    expect(dry.stderr).toMatch(done(`http: GET ${s.app.url}/healthz?token=[redacted]`, 'HTTP 200'));
    expect(dry.stderr).not.toContain('engine: apply');

    const verify = await s.cli(['verify', '--verbose', '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout).results[0]).toMatchObject({ secret: 'jwt', status: 'verified' });
    expect(verify.stderr).toMatch(done('engine: verify the current value of jwt', '2 checks passed'));
    expect(verify.stderr).toMatch(done(`http: GET ${s.app.url}/api/auth/me`, 'HTTP 200'));

    const rotated = await s.cli(['jwt', '--yes', '--json', '--verbose']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout).results[0].status).toBe('rotated');
    expect(rotated.stdout).not.toMatch(TRACE_LINE);
    const next = s.env().JWT_SECRET!;

    const status = await s.cli(['status', '--verbose', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).command).toBe('status');
    expect(status.stderr).toMatch(/^\[\+\d+ms\] schedule: jwt: ok, next due \S+$/m);
    expect(status.stderr).toMatch(done('store: read the states', '1 secrets'));

    const due = await s.cli(['--due', '--verbose']);
    expect(due.code, due.stderr).toBe(0);
    expect(due.stderr).toMatch(/schedule: jwt: ok, next due/);
    expect(due.stderr).not.toContain('engine: apply');

    const rollback = await s.cli(['rollback', 'jwt', '--yes', '--verbose']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(s.env().JWT_SECRET).toBe(OLD);
    expect(rollback.stderr).toMatch(done('engine: generate jwt (the values to go back to)'));
    expect(rollback.stderr).toMatch(done('engine: restart (jwt)'));
    expect(rollback.stderr).toMatch(done('engine: verify jwt'));

    const all = [dry, verify, rotated, status, due, rollback];
    expect(findLeaks(outputs(s.dir, all), [OLD, next, API_TOKEN, HEALTH_TOKEN])).toEqual([]);
  });

  it('a failed rotation traces its rollback; resume traces the undo of an interrupted run', async () => {
    const s = await jwtScene();
    // The app restarts on a stale copy of the env file: the new secret never loads, verification fails.
    writeFileSync(join(s.dir, 'stale.env'), `JWT_SECRET=${OLD}\nAPP_ENV=production\n`);
    s.writeConfig(s.app.restartCommand.replace('--env-file .env', '--env-file stale.env'));
    const failed = await s.cli(['jwt', '--yes', '--verbose']);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/engine: verify jwt: failed after \d+ ms \(VERIFY_FAILED\)/);
    expect(failed.stderr).toMatch(done('engine: rollback: restore the target'));
    expect(failed.stderr).toMatch(done('engine: rollback: restart'));
    expect(failed.stderr).toMatch(done('engine: rollback: verify the old value of jwt', '2 checks passed'));
    expect(s.env().JWT_SECRET).toBe(OLD);

    s.writeConfig(`${HANGING_RESTART}${s.app.restartCommand}`);
    await killInRestart(s.dir, 'jwt', ['jwt', '--yes'], { ROTATE_MASTER_KEY: MASTER_KEY });
    const written = s.env().JWT_SECRET!;
    s.writeConfig();
    const resume = await s.cli(['resume', '--verbose']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stderr).toMatch(done('store: read the journals', '1 pending'));
    expect(resume.stderr).toMatch(/engine: resume: run [0-9a-f-]{36} had not verified: undoing it/);
    expect(resume.stderr).toMatch(done('engine: rollback: restore the target'));
    expect(s.env().JWT_SECRET).toBe(OLD);
    expect(findLeaks(outputs(s.dir, [failed, resume]), [OLD, written, API_TOKEN, HEALTH_TOKEN])).toEqual([]);
  });

  it('without --verbose none of these lines appear', async () => {
    const s = await jwtScene();
    const results = [
      await s.cli(['jwt', '--yes']),
      await s.cli(['--dry-run', 'jwt']),
      await s.cli(['verify']),
      await s.cli(['status', '--json']),
      await s.cli(['rollback', 'jwt', '--yes']),
    ];
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(TRACE_LINE);
      expect(result.stderr).not.toMatch(/(engine|store|http|target|config): /);
    }
    expect(results[0]!.stderr).toMatch(/^restarting backend$/m);
  });
});

describe('--verbose: database (a private scram-sha-256 cluster, a hostile password)', () => {
  let server: PrivatePostgres;
  beforeAll(async () => {
    server = await startPrivatePostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('traces each login (host:port/db and role, never the password) and the steps; nothing leaks', async () => {
    const oldPassword = `Old@p%ss "q" #x-${Date.now()}`;
    await createAppDatabase(server, 'app_verbose', oldPassword, 'verbosedb');
    const oldUrl = `postgresql://app_verbose:${encodeURIComponent(oldPassword)}@127.0.0.1:${server.port}/verbosedb`;
    const s = await appScene(
      [`DATABASE_URL=${oldUrl}`],
      () => ({ database: { kind: 'postgres', services: ['backend'] } }),
      '/api/health/ready',
    );
    const result = await s.cli(['database', '--yes', '--verbose', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).results[0]).toMatchObject({ status: 'rotated' });
    const next = s.env().DATABASE_URL!;
    const newPassword = /^postgresql:\/\/app_verbose:([A-Za-z0-9_-]{43})@/.exec(next)?.[1];
    expect(newPassword).toBeDefined();
    expect(await loginWith(next)).toBe('ok');

    const err = result.stderr;
    expect(err).toMatch(done(`postgres: log in to 127.0.0.1:${server.port}/verbosedb as app_verbose`));
    // The old password is refused once retired: the trace shows the refused login by its SQLSTATE.
    expect(err).toMatch(
      new RegExp(`postgres: log in to 127\\.0\\.0\\.1:${server.port}/verbosedb as app_verbose: failed after \\d+ ms \\(28P01\\)`),
    );
    for (const step of ['preflight database', 'apply database', 'verify database', 'retire database', 'verify-retired database']) {
      expect(err).toMatch(done(`engine: ${step}`));
    }
    expect(err).toMatch(done(`http: GET ${s.app.url}/api/health/ready?token=[redacted]`, 'HTTP 200'));
    expect(findLeaks(outputs(s.dir, [result]), [...partsOf(oldPassword), newPassword!, API_TOKEN, HEALTH_TOKEN])).toEqual([]);
  });
});

describe('--verbose: redis (a private server with an aclfile, hostile passwords)', () => {
  const ADMIN = 'Adm1n@p%ss "kw0tz1" #adm1n-s3cr3t';
  const ADMIN_ENV = 'ROTATE_TEST_REDIS_ADMIN_URL';
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await startPrivateRedis({
      mode: 'aclfile',
      password: `Old@Secret%zz "r" #${Date.now()}`,
      users: { admin: { password: ADMIN, rules: 'on ~* &* +@all' } },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('traces the connection (host:port), AUTH and the commands by name, never an argument; nothing leaks', async () => {
    const admin = await server.connect(ADMIN, 'admin');
    const old = `Old@S3cr3t%zz-${Date.now()}`;
    await admin.call('ACL', 'SETUSER', 'default', 'on', 'resetpass', `>${old}`);
    await admin.call('ACL', 'SAVE');
    admin.disconnect();
    const dir = scratchDir('rotate-verbose-redis-');
    writeFileSync(join(dir, '.env'), `REDIS_URL=redis://:${encodeURIComponent(old)}@127.0.0.1:${server.port}/0\n`);
    const config = {
      services: { worker: { restart: `API_TOKEN=${API_TOKEN} true` } },
      secrets: { redis: { kind: 'redis', services: ['worker'], strategy: 'acl', graceHours: 0, adminUrlEnv: ADMIN_ENV } },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
    const result = await runCli(['redis', '--yes', '--verbose'], {
      cwd: dir,
      env: { ROTATE_MASTER_KEY: MASTER_KEY, [ADMIN_ENV]: server.url(ADMIN, 'admin') },
    });
    expect(result.code, result.stderr).toBe(0);
    const next = /^redis:\/\/:([A-Za-z0-9_-]{43})@/.exec(dotenv.parse(readFileSync(join(dir, '.env'))).REDIS_URL!)?.[1];
    expect(next).toBeDefined();

    const err = result.stderr;
    expect(err).toMatch(done(`redis: connect to 127.0.0.1:${server.port}`));
    expect(err).toMatch(done('redis: AUTH as admin'));
    expect(err).toMatch(done('redis: AUTH as default'));
    // The retired password is refused: the trace says so, never with what was sent.
    expect(err).toMatch(/^\[\+\d+ms\] redis: AUTH as default: failed after \d+ ms \(\w+\)$/m);
    expect(err).toMatch(done('redis: ACL SETUSER default (add the new password)'));
    expect(err).toMatch(done(`restart worker: /bin/sh -c "API_TOKEN=[redacted] true" in ${dir}`, 'exit 0'));
    expect(findLeaks(outputs(dir, [result]), [...partsOf(old), next!, ...partsOf(ADMIN), API_TOKEN])).toEqual([]);
  });
});

describe('--verbose: exchange-key (rows re-encrypted in the shared PostgreSQL)', () => {
  const database = scratchDatabase('rotate_verbose_xk');
  const OLD = 'verbose-exchange-key-old-material-32-chars!';
  beforeAll(async () => {
    const db = await database.create();
    await db.query(`CREATE TABLE exchange_api_keys (id serial PRIMARY KEY, api_key_encrypted text NOT NULL,
      api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL)`);
    const tokens = pyEncrypt(OLD, ['key-1', 'secret-1', 'pass-1', 'key-2', 'secret-2', 'pass-2']);
    await db.query(
      `INSERT INTO exchange_api_keys (api_key_encrypted, api_secret_encrypted, passphrase_encrypted) VALUES ($1, $2, $3), ($4, $5, $6)`,
      tokens,
    );
  });
  afterAll(() => database.drop());

  it('traces the database it connects to (host:port/db, no password) and the steps; the keys never appear', async () => {
    const s = await appScene(
      [`EXCHANGE_KEY_ENCRYPTION_KEY=${OLD}`, `DATABASE_URL=${database.url}`],
      () => ({ 'exchange-key': { kind: 'exchange-key', services: ['backend'] } }),
      '/api/exchange-keys/check',
    );
    const result = await s.cli(['exchange-key', '--yes', '--verbose']);
    expect(result.code, result.stderr).toBe(0);
    const next = s.env().EXCHANGE_KEY_ENCRYPTION_KEY!;
    expect(next).not.toBe(OLD);
    const err = result.stderr;
    expect(err).toMatch(done(`postgres: connect to postgres@127.0.0.1:5432/${database.name} (DATABASE_URL)`));
    for (const step of ['preflight exchange-key', 'apply exchange-key', 'write-target (exchange-key)', 'verify exchange-key']) {
      expect(err).toMatch(done(`engine: ${step}`));
    }
    expect(err).toMatch(done(`http: GET ${s.app.url}/api/exchange-keys/check?token=[redacted]`, 'HTTP 200'));
    expect(findLeaks(outputs(s.dir, [result]), [OLD, next, API_TOKEN, HEALTH_TOKEN])).toEqual([]);
  });
});

describe('--verbose: Kubernetes (a fake cluster: a Secret target and a Deployment rollout)', KUBE_E2E, () => {
  const OLD = 'old-signing-secret-kube-verbose-0123456789';
  const OTHER = { DATABASE_URL: 'postgresql://app:kube-db-pass-77@db:5432/app', SMTP_PASSWORD: 'smtp pass kube-verbose' };
  let p: KubeProject;

  beforeEach(async () => {
    p = await startKubeProject({ prefix: 'rotate-verbose-kube-', masterKey: MASTER_KEY });
    const service = await p.deploy('backend', { values: { JWT_SECRET: OLD, ...OTHER }, readinessPath: '/healthz' });
    p.writeConfig({
      services: { backend: kubeService('Deployment', 'backend', `${service.url}/healthz`) },
      secrets: { jwt: { services: ['backend'], graceHours: 0, verify: { url: `${service.url}/api/auth/me` } } },
    });
  });

  afterEach(async () => {
    await p.stop();
  });

  it('traces the Secret it reads, each API call (verb and path, status, time) and the rollout wait; no value, no token', async () => {
    const result = await p.cli(['jwt', '--yes', '--verbose']);
    expect(result.code, result.stderr).toBe(0);
    const next = p.kube.secretValues(NS, SECRET).JWT_SECRET as string;
    expect(next).not.toBe(OLD);
    const err = result.stderr;
    expect(err).toContain(`target: Kubernetes Secret ${NS}/${SECRET} (context prod)`);
    expect(err).toMatch(/kubernetes: API server https?:\/\/127\.0\.0\.1:\d+\/?, context prod/);
    const call = (request: string, status: number) =>
      new RegExp(`^\\[\\+\\d+ms\\] kubernetes: ${esc(request)}: HTTP ${status} in \\d+ ms$`, 'm');
    expect(err).toMatch(call(`GET /api/v1/namespaces/${NS}/secrets/${SECRET}`, 200));
    expect(err).toMatch(call('POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews', 201));
    expect(err).toMatch(new RegExp(`kubernetes: PATCH /api/v1/namespaces/${NS}/secrets/${SECRET}\\S*: HTTP 200 in \\d+ ms`));
    expect(err).toMatch(new RegExp(`kubernetes: PATCH /apis/apps/v1/namespaces/${NS}/deployments/backend\\S*: HTTP 200 in \\d+ ms`));
    expect(err).toMatch(done(`target: write JWT_SECRET to Secret ${NS}/${SECRET}`));
    expect(err).toMatch(done(`restart backend: wait for the rollout of Deployment ${NS}/backend (up to ${ROLLOUT_SECONDS} s)`));
    expect(err).toMatch(done('engine: verify jwt'));
    expect(p.leaks([result.stdout, result.stderr], [OLD, next, ...Object.values(OTHER)])).toEqual([]);
  });
});

describe('--verbose: stripe (the fake Stripe API, a key handed in on stdin)', () => {
  const WEBHOOK_URL = 'https://app.example.com/api/billing/webhook';

  it('traces each Stripe API call (method, path, status, time), never a key or a signing secret', async () => {
    const fake = await FakeStripe.start();
    try {
      const sk = fake.addKey('acct_A');
      const endpoint = fake.addEndpoint('acct_A', { url: WEBHOOK_URL, enabled_events: ['invoice.paid'], api_version: '2024-06-20' });
      const s = await appScene([`STRIPE_SECRET_KEY=${sk}`, `STRIPE_WEBHOOK_SECRET=${endpoint.secret}`], (app) => ({
        stripe: {
          kind: 'stripe',
          services: ['backend'],
          apiBase: fake.apiBase,
          webhook: { url: WEBHOOK_URL, verifyUrl: `${app.url}/api/billing/webhook` },
        },
      }));
      const newSk = fake.addKey('acct_A');
      const result = await runCli(['stripe', '--yes', '--verbose'], {
        cwd: s.dir,
        env: { ROTATE_MASTER_KEY: MASTER_KEY },
        input: `ROTATE_NEW_STRIPE_SECRET_KEY=${newSk}\n`,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(s.env().STRIPE_SECRET_KEY).toBe(newSk);
      const host = new URL(fake.apiBase).host;
      const call = (request: string) =>
        new RegExp(`^\\[\\+\\d+ms\\] stripe: ${esc(`${request.replace(' ', ` ${host}`)}`)}: HTTP 200 in \\d+ ms$`, 'm');
      expect(result.stderr).toMatch(call('GET /v1/account'));
      expect(result.stderr).toMatch(call('POST /v1/webhook_endpoints'));
      expect(result.stderr).toMatch(call(`DELETE /v1/webhook_endpoints/${endpoint.id}`));
      expect(result.stderr).toMatch(done('engine: apply stripe'));
      expect(findLeaks(outputs(s.dir, [result]), [...fake.issued, API_TOKEN, HEALTH_TOKEN])).toEqual([]);
    } finally {
      await fake.close();
    }
  });
});

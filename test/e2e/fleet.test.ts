// A fleet on one real PostgreSQL store (a scratch database): three agents in their own folders, each with its env
// file and stand-in app, and a rotating host. The rotation reaches every host before the old value is retired; a
// host whose agent is down parks the run (exit 3, old value valid, status names it) until it catches up.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authStatus, type StandInApp, standInApp } from '../helpers/app.js';
import { CLI, type CliResult, findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { type ScratchDatabase, scratchDatabase } from '../helpers/scratch-database.js';
import { waitPast, waitUntil } from '../helpers/wait.js';

const OLD = 'fleet-old-signing-secret-0123456789-abcdefgh';
const MASTER_KEY = randomBytes(32).toString('hex');

interface Host {
  name: string;
  dir: string;
  app: StandInApp;
  agent?: ChildProcess;
  /** What the running agent printed on stdout (its --json document at exit). */
  stdout?: string;
}

/** Every form a leak could take: raw, base64, hex, URL-encoded. */
const forms = (values: string[]) =>
  values.flatMap((v) => [v, Buffer.from(v).toString('base64'), Buffer.from(v).toString('hex'), encodeURIComponent(v)]);
const leaks = (texts: Record<string, string>, values: string[]) =>
  Object.entries(texts).flatMap(([where, text]) => (forms(values).some((f) => text.includes(f)) ? [where] : []));

describe('rotate agent: a fleet of hosts on one postgres store', () => {
  let db: ScratchDatabase;
  let client: pg.Client;
  let schema: string;
  let storeUrl: string;
  let hosts: Host[];
  let rotating: Host;
  const outputs: Record<string, string> = {};

  const env = (extra: Record<string, string> = {}) => ({ ROTATE_STORE_URL: storeUrl, ROTATE_MASTER_KEY: MASTER_KEY, ...extra });

  function writeConfig(host: Host, extra: Record<string, unknown> = {}) {
    const config = {
      store: { type: 'postgres', urlEnv: 'ROTATE_STORE_URL', schema: schema ?? 'rotate' },
      fleet: { ackSeconds: 20 },
      services: { backend: { restart: host.app.restartCommand, health: { url: `${host.app.url}/healthz`, timeoutSeconds: 20 } } },
      secrets: {
        jwt: {
          kind: 'jwt',
          services: ['backend'],
          verify: { url: `${host.app.url}/api/auth/me`, claims: { id: '1' } },
          hooks: {
            // A migration runs once (on the rotating host); a cache flush on every host.
            afterApply: { run: 'echo "migrate $ROTATE_HOOK" >> ../hooks-one.log' },
            afterVerify: { run: `echo "flush ${host.name}" >> ../hooks-every.log`, runOn: 'every' },
          },
        },
      },
      ...extra,
    };
    writeFileSync(join(host.dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  }

  async function makeHost(root: string, name: string): Promise<Host> {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, '.env'), `APP_ENV=production\nJWT_SECRET=${OLD}\n`, { mode: 0o600 });
    const host: Host = { name, dir, app: await standInApp(dir) };
    writeConfig(host);
    await host.app.start();
    return host;
  }

  function startAgent(host: Host, extra: string[] = []) {
    const child = spawn(process.execPath, [CLI, 'agent', '--host', host.name, '--interval', '0.3', ...extra], {
      cwd: host.dir,
      env: { ...process.env, NO_COLOR: '1', ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    host.stdout = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      host.stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => (outputs[`agent ${host.name} ${Date.now()}`] = out));
    host.agent = child;
  }

  async function stopAgent(host: Host, signal: NodeJS.Signals = 'SIGTERM') {
    const child = host.agent;
    // Gone already (an exit code, or killed by a signal: then exitCode stays null): no 'close' will come again.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise((resolve) => child.on('close', resolve));
    child.kill(signal);
    await closed;
  }

  const jwt = (host: Host) => dotenv.parse(readFileSync(join(host.dir, '.env'))).JWT_SECRET;
  /** The hosts the agents registered, read from the store's table. */
  const registered = async (): Promise<string[]> => {
    const { rows } = await client.query(`SELECT name FROM ${schema}.fleet_hosts ORDER BY name`).catch(() => ({ rows: [] }));
    return rows.map((r: { name: string }) => r.name);
  };

  beforeAll(async () => {
    db = scratchDatabase('rotate_fleet');
    client = await db.create();
    storeUrl = `postgresql://postgres@127.0.0.1:5432/${db.name}`;
  });
  afterAll(async () => {
    await db.drop();
  });

  beforeEach(async () => {
    // Each test starts from an empty store schema of its own.
    schema = `fleet_${randomBytes(3).toString('hex')}`;
    const root = scratchDir('rotate-fleet-');
    rotating = await makeHost(root, 'main');
    hosts = [await makeHost(root, 'web-1'), await makeHost(root, 'web-2'), await makeHost(root, 'worker')];
  });

  afterEach(async () => {
    for (const host of hosts) await stopAgent(host, 'SIGKILL');
    for (const host of [rotating, ...hosts]) await host.app.stop();
  });

  it('a rotation reaches every host before the old value is retired; one hook once, an every hook on each host', async () => {
    for (const host of hosts) {
      const once = await runCli(['agent', '--once', '--host', host.name, '--json'], { cwd: host.dir, env: env() });
      expect(once.code, once.stderr).toBe(0);
      expect(JSON.parse(once.stdout).results[0]).toMatchObject({ host: host.name, status: 'idle' });
    }
    const dry = await runCli(['jwt', '--dry-run', '--json'], { cwd: rotating.dir, env: env() });
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).results[0].steps).toEqual(
      expect.arrayContaining(['fleet-publish', 'hook-afterApply', 'hook-afterVerify', 'fleet-ack', 'retire']),
    );
    // Looping agents with --json: one document each, printed when they are stopped (CONTRACT.md, Output).
    for (const host of hosts) startAgent(host, ['--json']);
    expect(await waitUntil(async () => (await registered()).length === 3, 15_000)).toBe(true);
    const result = await runCli(['jwt', '--yes', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).results[0].status).toBe('rotated');
    const runId = JSON.parse(result.stdout).results[0].runId;
    const value = jwt(rotating)!;
    expect(value).not.toBe(OLD);
    for (const host of hosts) {
      expect(jwt(host)).toBe(value);
      expect(await authStatus(host.app.url, value)).toBe(200);
    }
    // JWT keeps no overlap without graceHours: the old secret is gone from every host's env file and app.
    const root = join(rotating.dir, '..');
    for (const host of [rotating, ...hosts]) {
      expect(readFileSync(join(host.dir, '.env'), 'utf8')).not.toContain(OLD);
      expect(await authStatus(host.app.url, OLD)).toBe(401);
    }
    expect(readFileSync(join(root, 'hooks-one.log'), 'utf8')).toBe('migrate afterApply\n');
    const every = readFileSync(join(root, 'hooks-every.log'), 'utf8').trim().split('\n').sort();
    expect(every).toEqual(expect.arrayContaining(['flush main', 'flush web-1', 'flush web-2', 'flush worker']));
    for (const host of hosts) {
      // Stopped by SIGTERM between passes: exit 0 and exactly one JSON document, one item per run of like passes.
      await stopAgent(host);
      expect(host.agent?.exitCode, host.stdout).toBe(0);
      const doc = JSON.parse(host.stdout ?? '');
      expect(doc).toMatchObject({ command: 'agent', ok: true, exitCode: 0 });
      const items = doc.results as { host: string; status: string; runId?: string; pass: number; passes: number }[];
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((item) => item.host === host.name && item.pass >= 1 && item.passes >= 1)).toBe(true);
      // Items follow one another: each starts at the pass after the last one of the item before.
      expect(items.slice(1).map((item) => item.pass)).toEqual(items.slice(0, -1).map((item) => item.pass + item.passes));
      // The rotation's values, applied once (then 'current' until the retire changes, applied too).
      expect(items.filter((item) => item.status === 'applied' && item.runId === runId).length).toBeGreaterThan(0);
    }
    const tree = Object.fromEntries(
      [rotating, ...hosts].flatMap((h) => Object.entries(readTree(h.dir)).filter(([k]) => !k.endsWith('.env'))),
    );
    // The store as well: hosts, the sealed desired values, acknowledgements, state, history (every row as text).
    const store: Record<string, string> = {};
    for (const table of ['fleet_hosts', 'fleet_desired', 'fleet_acks', 'state', 'history', 'journal', 'meta']) {
      store[table] = JSON.stringify((await client.query(`SELECT * FROM ${schema}.${table}`)).rows);
    }
    expect(store.fleet_desired).toContain(JSON.parse(result.stdout).results[0].runId);
    expect(leaks({ stdout: result.stdout, stderr: result.stderr, ...outputs, ...tree, ...store }, [value, OLD])).toEqual([]);
  });

  it('an agent killed in the middle: nothing retired, status names the host; it restarts and the fleet converges', async () => {
    const [web1, web2, worker] = hosts as [Host, Host, Host];
    // The worker's agent is killed as its pass restarts the app: it applied nothing it acknowledged.
    writeConfig(worker, {
      services: {
        backend: {
          // The shell writes its pid: a SIGKILL of the agent leaves it running, and its restart 30 s later would take
          // the worker's app down while this test still talks to it (ECONNREFUSED on a loaded machine).
          restart: `echo $$ > restart-shell.pid; touch agent-restarting; sleep 30; ${worker.app.restartCommand}`,
          health: { url: `${worker.app.url}/healthz` },
        },
      },
    });
    for (const host of hosts) startAgent(host);
    expect(await waitUntil(async () => (await registered()).length === 3, 15_000)).toBe(true);
    const run = runCli(['jwt', '--yes', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(await waitUntil(() => existsSync(join(worker.dir, 'agent-restarting')), 30_000)).toBe(true);
    await stopAgent(worker, 'SIGKILL');
    // What a host's reboot would do to the restart the killed agent left behind: end it before it restarts the app.
    process.kill(Number(readFileSync(join(worker.dir, 'restart-shell.pid'), 'utf8')), 'SIGKILL');
    const result = await run;
    expect(result.code, result.stderr).toBe(3);
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0].status).toBe('retire-failed');
    expect(doc.results[0].error.code).toBe('FLEET_LAGGING');
    expect(doc.results[0].error.message).toContain('worker');
    expect(doc.results[0].error.message).not.toContain('web-1');
    // Nothing retired: the run is parked before its retire step (a kind with an overlap keeps the old value valid).
    const value = jwt(rotating)!;
    const journal = (await client.query(`SELECT data FROM ${schema}.journal`)).rows[0]?.data;
    expect(journal.needsPerson).toContain('worker');
    const stepNames = [...journal.steps, ...journal.secrets[0].steps].map((step: { name: string }) => step.name);
    expect(stepNames).toContain('hook-afterVerify');
    expect(stepNames).not.toContain('retire');
    expect(jwt(web1)).toBe(value);
    expect(jwt(web2)).toBe(value);
    const status = await runCli(['status'], { cwd: rotating.dir, env: env() });
    expect(status.stdout + status.stderr).toContain('worker');
    const check = await runCli(['status', '--check', '--json'], { cwd: rotating.dir, env: env() });
    expect(check.code).toBe(3);
    const checked = JSON.parse(check.stdout);
    expect(checked.fleet.filter((h: { upToDate: boolean }) => !h.upToDate).map((h: { host: string }) => h.host)).toEqual(['worker']);
    expect(checked.check.problems.join('\n')).toContain('fleet host worker');
    const metrics = await runCli(['metrics'], { cwd: rotating.dir, env: env() });
    expect(metrics.stdout).toContain('rotate_fleet_host_up_to_date{host="worker"} 0');
    expect(metrics.stdout).toContain('rotate_fleet_host_up_to_date{host="web-1"} 1');

    // The worker's agent comes back (its restart fixed): it applies and acknowledges; resume retires.
    // What the worker's agent would do, read-only (it wrote its env file, then died in the restart: no acknowledgement).
    const plan = await runCli(['agent', '--dry-run', '--host', 'worker', '--json'], { cwd: worker.dir, env: env() });
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).results[0]).toMatchObject({
      host: 'worker',
      status: 'planned',
      keys: ['JWT_SECRET'],
      services: ['backend'],
    });
    writeConfig(worker);
    startAgent(worker);
    expect(
      await waitUntil(
        async () => (await client.query(`SELECT result FROM ${schema}.fleet_acks WHERE host = 'worker'`)).rows[0]?.result === 'ok',
        30_000,
      ),
    ).toBe(true);
    expect(jwt(worker)).toBe(value);
    const resumed = await runCli(['resume', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).results[0].status).toBe('rotated');
    expect((await client.query(`SELECT count(*)::int AS n FROM ${schema}.journal`)).rows[0].n).toBe(0);
    expect(await authStatus(rotating.app.url, OLD)).toBe(401);
    expect(await authStatus(worker.app.url, value)).toBe(200);
    const after = await runCli(['metrics'], { cwd: rotating.dir, env: env() });
    expect(after.stdout).toContain('rotate_fleet_host_up_to_date{host="worker"} 1');
    expect(
      leaks(
        { a: result.stdout, b: result.stderr, c: resumed.stdout, d: resumed.stderr, e: status.stdout, f: check.stdout, g: metrics.stdout },
        [value, OLD],
      ),
    ).toEqual([]);
  }, 180_000);

  /** Whether each host named acknowledged, ok, the values published last (the fleet_desired row). */
  const acknowledged = async (...names: string[]): Promise<boolean> => {
    const { rows } = await client.query(
      `SELECT a.host FROM ${schema}.fleet_acks a JOIN ${schema}.fleet_desired d ON a.run_id = d.run_id AND a.fingerprint = d.fingerprint WHERE a.result = 'ok'`,
    );
    return names.every((name) => rows.some((r: { host: string }) => r.host === name));
  };
  /** Each run's stdout and stderr, for findLeaks (the store is postgres: no .rotate folder to read). */
  const cliOutputs = (...results: CliResult[]): Record<string, string> =>
    Object.fromEntries(
      results.flatMap((r, i) => [
        [`stdout${i}`, r.stdout],
        [`stderr${i}`, r.stderr],
      ]),
    );
  const previous = (host: Host) => dotenv.parse(readFileSync(join(host.dir, '.env'))).JWT_SECRET_PREVIOUS;

  it('an overlap kind (jwt with graceHours): the old value stays valid on every host until each agent proved the new one, and the retire waits for every agent', async () => {
    const [web1, web2, worker] = hosts as [Host, Host, Host];
    const grace = { graceHours: 0.0005 }; // 1.8 s, from the moment every host acknowledged
    const jwtConfig = (host: Host) => ({
      jwt: { kind: 'jwt', services: ['backend'], verify: { url: `${host.app.url}/api/auth/me`, claims: { id: '1' } }, ...grace },
    });
    // The rotating host gives up on a lagging agent after 3 s (the worker's is down on purpose, twice).
    for (const host of hosts) writeConfig(host, { secrets: jwtConfig(host) });
    writeConfig(rotating, { secrets: jwtConfig(rotating), fleet: { ackSeconds: 3 } });
    const joined = await runCli(['agent', '--once', '--host', 'worker'], { cwd: worker.dir, env: env() });
    expect(joined.code, joined.stderr).toBe(0);
    startAgent(web1);
    startAgent(web2);
    expect(await waitUntil(async () => (await registered()).length === 3, 15_000)).toBe(true);

    // 1. The worker did not report: nothing retired, no grace started, the run parked naming the worker.
    const first = await runCli(['jwt', '--yes', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(first.code, first.stderr).toBe(3);
    const parked = JSON.parse(first.stdout).results[0];
    expect(parked).toMatchObject({ status: 'retire-failed', error: { code: 'FLEET_LAGGING' } });
    expect(parked.error.message).toContain('worker');
    expect(parked.graceUntil).toBeUndefined();
    const value = jwt(rotating)!;
    expect(value).not.toBe(OLD);
    expect(await waitUntil(() => acknowledged('web-1', 'web-2'), 30_000)).toBe(true);
    // Each host that took the new value keeps the old one beside it (JWT_SECRET_PREVIOUS), as the rotating host does.
    for (const host of [rotating, web1, web2]) {
      expect(jwt(host)).toBe(value);
      expect(previous(host)).toBe(OLD);
      expect(await authStatus(host.app.url, OLD)).toBe(200);
      expect(await authStatus(host.app.url, value)).toBe(200);
    }
    expect(jwt(worker)).toBe(OLD);
    expect(await authStatus(worker.app.url, OLD)).toBe(200);
    const status = await runCli(['status', '--json'], { cwd: rotating.dir, env: env() });
    const lagging = (doc: { fleet: { host: string; upToDate: boolean }[] }) => doc.fleet.filter((h) => !h.upToDate).map((h) => h.host);
    expect(lagging(JSON.parse(status.stdout))).toEqual(['worker']);
    const said = await runCli(['status'], { cwd: rotating.dir, env: env() });
    expect(said.stdout + said.stderr).toMatch(/worker \(no acknowledgement/);

    // 2. The worker's agent comes back: it applies and acknowledges; resume starts the grace period.
    startAgent(worker);
    expect(await waitUntil(() => acknowledged('worker'), 30_000)).toBe(true);
    expect(jwt(worker)).toBe(value);
    expect(previous(worker)).toBe(OLD);
    const resumed = await runCli(['resume', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    const graced = JSON.parse(resumed.stdout).results[0];
    expect(graced.status).toBe('grace');
    for (const host of [rotating, ...hosts]) expect(await authStatus(host.app.url, OLD)).toBe(200);

    // 3. The grace ends while the worker's agent is down: the retire is applied here and by the agents that run, and
    // the run does not report it retired before every host applied it (FLEET_RETIRE_LAGGING names the worker).
    await stopAgent(worker);
    expect(await waitPast(graced.graceUntil)).toBe(true);
    const retire = await runCli(['--due', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(retire.code, retire.stderr).toBe(3);
    const notRetired = JSON.parse(retire.stdout).results[0];
    expect(notRetired).toMatchObject({ status: 'retire-failed', error: { code: 'FLEET_RETIRE_LAGGING' } });
    expect(notRetired.error.message).toMatch(/^host worker \(no acknowledgement .*\) did not acknowledge the retire changes within 3s/);
    expect(retire.stderr).toMatch(/waiting for .*worker to acknowledge the retire changes/);
    expect(await waitUntil(() => acknowledged('web-1', 'web-2'), 30_000)).toBe(true);
    for (const host of [rotating, web1, web2]) {
      expect(previous(host)).toBeUndefined();
      expect(await authStatus(host.app.url, OLD)).toBe(401);
    }
    expect(await authStatus(worker.app.url, OLD)).toBe(200);
    const check = await runCli(['status', '--check', '--json'], { cwd: rotating.dir, env: env() });
    expect(check.code).toBe(3);
    expect(lagging(JSON.parse(check.stdout))).toEqual(['worker']);

    // 4. The worker catches up; resume waits again and reports the old value retired everywhere.
    startAgent(worker);
    expect(await waitUntil(() => acknowledged('worker'), 30_000)).toBe(true);
    const finished = await runCli(['resume', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(finished.code, finished.stderr).toBe(0);
    expect(JSON.parse(finished.stdout).results[0].status).toBe('retired');
    for (const host of [rotating, ...hosts]) {
      expect(previous(host)).toBeUndefined();
      expect(await authStatus(host.app.url, OLD)).toBe(401);
      expect(await authStatus(host.app.url, value)).toBe(200);
    }
    for (const host of hosts) await stopAgent(host);
    const texts = cliOutputs(joined, first, status, said, resumed, retire, check, finished);
    expect(findLeaks({ ...texts, ...outputs }, [value, OLD])).toEqual([]);
  }, 180_000);

  it('a rollback is applied by every agent before it is reported: a host that lags is named (exit 3), resume waits again', async () => {
    const [web1, web2, worker] = hosts as [Host, Host, Host];
    // The rotating host's migration fails after the restart: the rotation rolls back on every host.
    writeConfig(rotating, {
      fleet: { ackSeconds: 3 },
      secrets: {
        jwt: {
          kind: 'jwt',
          services: ['backend'],
          verify: { url: `${rotating.app.url}/api/auth/me`, claims: { id: '1' } },
          hooks: { afterApply: { run: 'echo migration failed >&2; exit 1' } },
        },
      },
    });
    const joined = await runCli(['agent', '--once', '--host', 'worker'], { cwd: worker.dir, env: env() });
    expect(joined.code, joined.stderr).toBe(0);
    startAgent(web1);
    startAgent(web2);
    expect(await waitUntil(async () => (await registered()).length === 3, 15_000)).toBe(true);
    const run = await runCli(['jwt', '--yes', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(3);
    const result = JSON.parse(run.stdout).results[0];
    expect(result).toMatchObject({ status: 'rollback-failed', error: { code: 'FLEET_ROLLBACK_LAGGING' } });
    expect(result.error.message).toContain('rolling back is not finished');
    expect(result.error.message).toMatch(/worker \(no acknowledgement .*\) did not acknowledge the rollback within 3s/);
    expect(result.error.hint).toContain('rotate resume');
    expect(run.stderr).toContain('waiting for');
    expect(jwt(rotating)).toBe(OLD);
    expect(await authStatus(rotating.app.url, OLD)).toBe(200);
    const journal = (await client.query(`SELECT data FROM ${schema}.journal`)).rows[0]?.data;
    expect(journal.steps.map((step: { name: string; state: string }) => `${step.name} ${step.state}`)).toContain('fleet-rollback started');
    const status = await runCli(['status'], { cwd: rotating.dir, env: env() });
    expect(status.code).toBe(3);
    expect(status.stdout + status.stderr).toContain('worker');

    startAgent(worker);
    expect(await waitUntil(() => acknowledged('web-1', 'web-2', 'worker'), 30_000)).toBe(true);
    const resumed = await runCli(['resume', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).results[0].status).toBe('undone');
    expect((await client.query(`SELECT count(*)::int AS n FROM ${schema}.journal`)).rows[0].n).toBe(0);
    for (const host of [rotating, ...hosts]) {
      expect(jwt(host)).toBe(OLD);
      expect(await authStatus(host.app.url, OLD)).toBe(200);
    }
    for (const host of hosts) await stopAgent(host);
    expect(findLeaks({ ...cliOutputs(joined, run, status, resumed), ...outputs }, [OLD])).toEqual([]);
  }, 180_000);

  it('an agent killed in its every hook: the next pass runs no hook twice and skips none (journaled on its host)', async () => {
    const [web1, web2, worker] = hosts as [Host, Host, Host];
    writeConfig(rotating, { fleet: { ackSeconds: 90 } });
    // The worker's afterVerify hook is held until the test writes `release` (60 s at most, so no shell is left behind).
    const held =
      'echo afterVerify >> hooks-worker.log; touch hook-held; i=0; while [ ! -e release ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done';
    const workerConfig = (idempotent: boolean) =>
      writeConfig(worker, {
        secrets: {
          jwt: {
            kind: 'jwt',
            services: ['backend'],
            verify: { url: `${worker.app.url}/api/auth/me`, claims: { id: '1' } },
            hooks: {
              afterApply: { run: 'echo afterApply >> hooks-worker.log', runOn: 'every' },
              afterVerify: { run: held, runOn: 'every', idempotent },
            },
          },
        },
      });
    workerConfig(false);
    const once = () => runCli(['agent', '--once', '--host', 'worker', '--json'], { cwd: worker.dir, env: env() });
    const joined = await once();
    expect(joined.code, joined.stderr).toBe(0);
    startAgent(web1);
    startAgent(web2);
    expect(await waitUntil(async () => (await registered()).length === 3, 15_000)).toBe(true);
    const run = runCli(['jwt', '--yes', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 150_000 });
    const published = async () => (await client.query(`SELECT count(*)::int AS n FROM ${schema}.fleet_desired`)).rows[0].n === 1;
    expect(await waitUntil(published, 60_000)).toBe(true);
    // The worker's pass: it writes, restarts, runs afterApply, and is killed while afterVerify runs.
    startAgent(worker, ['--once']);
    expect(await waitUntil(() => existsSync(join(worker.dir, 'hook-held')), 60_000)).toBe(true);
    await stopAgent(worker, 'SIGKILL');
    writeFileSync(join(worker.dir, 'release'), ''); // the orphaned hook shell ends; any later run of it too
    const log = () => readFileSync(join(worker.dir, 'hooks-worker.log'), 'utf8');
    expect(log()).toBe('afterApply\nafterVerify\n');
    const journal = JSON.parse(readFileSync(join(worker.dir, '.rotate-agent-journal.json'), 'utf8'));
    expect(journal.hooks['afterApply jwt'].state).toBe('done');
    expect(journal.hooks['afterVerify jwt'].state).toBe('started');

    // Next pass: afterApply is not run again; afterVerify, not idempotent, is not run blindly: a person decides.
    const interrupted = await once();
    expect(interrupted.code, interrupted.stderr).toBe(1);
    const failed = JSON.parse(interrupted.stdout).results[0];
    expect(failed).toMatchObject({ host: 'worker', status: 'failed', error: { code: 'FLEET_APPLY_FAILED' } });
    expect(failed.error.message).toContain('HOOK_INTERRUPTED');
    expect(failed.error.hint).toContain('idempotent');
    expect(log()).toBe('afterApply\nafterVerify\n');
    // The rotating host's wait ends at the worker's failure, naming it and why; nothing retired.
    const parked = await run;
    expect(parked.code, parked.stderr).toBe(3);
    expect(JSON.parse(parked.stdout).results[0].error.message).toMatch(/worker \(failed: .*HOOK_INTERRUPTED/);

    // Marked idempotent: the next pass runs afterVerify again (not afterApply) and acknowledges; then nothing more.
    workerConfig(true);
    const applied = await once();
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).results[0].status).toBe('applied');
    expect(log()).toBe('afterApply\nafterVerify\nafterVerify\n');
    expect(existsSync(join(worker.dir, '.rotate-agent-journal.json'))).toBe(false);
    const current = await once();
    expect(JSON.parse(current.stdout).results[0].status).toBe('current');
    expect(log()).toBe('afterApply\nafterVerify\nafterVerify\n');
    const resumed = await runCli(['resume', '--json'], { cwd: rotating.dir, env: env(), timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).results[0].status).toBe('rotated');
    const value = jwt(rotating)!;
    expect(jwt(worker)).toBe(value);
    for (const host of hosts) await stopAgent(host);
    const texts = cliOutputs(joined, interrupted, parked, applied, current, resumed);
    const files = Object.fromEntries(Object.entries(readTree(worker.dir)).filter(([path]) => !path.endsWith('.env')));
    expect(findLeaks({ ...texts, ...outputs, ...files }, [value, OLD])).toEqual([]);
  }, 180_000);

  it('bad input: a host name two agents claim, an agent with another master key, a file store', async () => {
    const [web1, web2] = hosts as [Host, Host];
    const first = await runCli(['agent', '--once', '--host', 'shared-name'], { cwd: web1.dir, env: env() });
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['agent', '--once', '--host', 'shared-name'], { cwd: web2.dir, env: env() });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('FLEET_HOST_TAKEN');
    expect(second.stderr).toContain('shared-name');
    const wrongKey = await runCli(['agent', '--once'], { cwd: web2.dir, env: env({ ROTATE_MASTER_KEY: 'c'.repeat(64) }) });
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain('MASTER_KEY_MISMATCH');
    const noKey = await runCli(['agent', '--once'], { cwd: web2.dir, env: { ROTATE_STORE_URL: storeUrl, ROTATE_MASTER_KEY: undefined } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('MASTER_KEY_MISSING');
    const left = await runCli(['agent', '--leave', '--host', 'shared-name'], { cwd: web1.dir, env: env() });
    expect(left.code, left.stderr).toBe(0);
    const again = await runCli(['agent', '--once', '--host', 'shared-name'], { cwd: web2.dir, env: env() });
    expect(again.code, again.stderr).toBe(0);
    writeFileSync(join(web1.dir, 'rotate.config.json'), JSON.stringify({ fleet: {} }));
    const fileStore = await runCli(['status'], { cwd: web1.dir, env: env() });
    expect(fileStore.code).toBe(2);
    expect(fileStore.stderr).toContain('fleet');
  });
});

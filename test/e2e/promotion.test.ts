// Staging first, end to end: two configs (staging, production) on one store; production is refused until staging
// has a verified rotation, an --emergency bypass is recorded and posted, and the dry run and status say why.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { startWebhook, type Webhook } from '../helpers/webhook.js';

const STAGING_OLD = 'staging-signing-secret-0123456789-abcdefghijk';
const PRODUCTION_OLD = 'production-signing-secret-0123456789-abcdefgh';

const STORE_URL = 'postgresql://postgres@127.0.0.1:5432/test';

// The file store (one host, both configs naming one store.dir) and PostgreSQL (the normal setup: shared by hosts).
describe.each(['file', 'postgres'] as const)('the promotion gate on one %s store shared by staging and production', (storeType) => {
  const schema = `rotate_promotion_${randomBytes(4).toString('hex')}`;
  const masterKey = randomBytes(32).toString('hex');
  const store = storeType === 'file' ? { type: 'file', dir: '../shared-store' } : { type: 'postgres', urlEnv: 'ROTATE_STORE_URL', schema };
  const storeEnv = storeType === 'file' ? { ROTATE_MASTER_KEY: undefined } : { ROTATE_MASTER_KEY: masterKey, ROTATE_STORE_URL: STORE_URL };
  let root: string;
  let apps: Record<'staging' | 'production', StandInApp>;
  let hook: Webhook;
  const dir = (env: string) => join(root, env);
  const cli = (env: string, args: string[]) => runCli(args, { cwd: dir(env), env: storeEnv });
  const jwtOf = (env: string) => dotenv.parse(readFileSync(join(dir(env), '.env'))).JWT_SECRET!;

  beforeAll(async () => {
    root = scratchDir('rotate-promotion-');
    hook = await startWebhook();
    const made: Partial<Record<'staging' | 'production', StandInApp>> = {};
    for (const [env, old] of [
      ['staging', STAGING_OLD],
      ['production', PRODUCTION_OLD],
    ] as const) {
      mkdirSync(dir(env), { mode: 0o700 });
      writeFileSync(join(dir(env), '.env'), `JWT_SECRET=${old}\n`, { mode: 0o600 });
      const app = await standInApp(dir(env));
      await app.start();
      made[env] = app;
      writeFileSync(
        join(dir(env), 'rotate.config.json'),
        JSON.stringify({
          environment: env,
          ...(env === 'production' ? { promotion: { after: 'staging', withinDays: 14 } } : {}),
          store,
          services: { backend: { restart: app.restartCommand, health: { url: `${app.url}/healthz`, timeoutSeconds: 20 } } },
          secrets: { jwt: { kind: 'jwt', services: ['backend'], verify: { url: `${app.url}/api/auth/me`, claims: { id: '1' } } } },
          notify: { webhookUrl: hook.url },
        }),
      );
    }
    apps = made as Record<'staging' | 'production', StandInApp>;
  });

  afterAll(async () => {
    await Promise.all(Object.values(apps ?? {}).map((app) => app.stop()));
    await hook?.close();
    if (storeType === 'postgres') {
      const client = new pg.Client(STORE_URL);
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });

  it('refuses production before any staging run (exit 2, the environment named), changes nothing, and the dry run fails its check', async () => {
    const dry = await cli('production', ['jwt', '--dry-run', '--json']);
    expect(dry.code).toBe(1);
    const gate = JSON.parse(dry.stdout).results[0].checks.find((c: { id: string }) => c.id === 'promotion-gate');
    expect(gate).toMatchObject({ ok: false });
    expect(gate.detail).toContain('"staging"');

    const refused = await cli('production', ['jwt', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[PROMOTION_ENVIRONMENT_UNKNOWN]');
    expect(refused.stderr).toContain('hint:');
    expect(jwtOf('production')).toBe(PRODUCTION_OLD);
  });

  it('lets production rotate after a verified staging rotation, resting on it (status and history say which run)', async () => {
    const staging = await cli('staging', ['jwt', '--yes', '--json']);
    expect(staging.code).toBe(0);
    const stagingRun = JSON.parse((await cli('staging', ['history', '--json'])).stdout).results[0];
    expect(stagingRun).toMatchObject({ secret: 'jwt', result: 'rotated', environment: 'staging' });

    const status = JSON.parse((await cli('production', ['status', '--json'])).stdout);
    // Production's own state is apart from staging's on the shared store: still never rotated there.
    expect(status.results[0]).toMatchObject({ state: 'never-rotated', promotion: { state: 'open', restsOn: { runId: stagingRun.runId } } });

    const production = await cli('production', ['jwt', '--yes']);
    expect(production.stderr).not.toContain('UNEXPECTED');
    expect(production.code).toBe(0);
    expect(jwtOf('production')).not.toBe(PRODUCTION_OLD);
    const history = JSON.parse((await cli('production', ['history', '--json'])).stdout).results;
    expect(history[0]).toMatchObject({
      environment: 'production',
      result: 'rotated',
      promotion: { after: 'staging', restsOn: stagingRun.runId },
    });
  });

  it('passes a closed gate with --emergency --reason, recorded in the history and posted', async () => {
    // A per-secret gate on an environment with no verified run makes the gate closed again for this test.
    const path = join(dir('production'), 'rotate.config.json');
    const config = JSON.parse(readFileSync(path, 'utf8'));
    config.secrets.jwt.promotion = { after: 'production', withinDays: 1 };
    writeFileSync(path, JSON.stringify(config));
    const own = await cli('production', ['jwt', '--yes']);
    expect(own.code).toBe(2);
    expect(own.stderr).toContain('secrets.jwt.promotion.after');

    config.secrets.jwt.promotion = { after: 'staging', withinDays: 14 };
    config.promotion = { after: 'staging', withinDays: 14 };
    // Staging's run is older than a gate of 1e-9 days (86 microseconds): the production rotation of the test before
    // ran after it, so this holds however fast the machine is.
    config.secrets.jwt.promotion.withinDays = 1e-9;
    writeFileSync(path, JSON.stringify(config));
    const before = jwtOf('production');
    const closed = await cli('production', ['jwt', '--yes']);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toContain('[PROMOTION_GATE_CLOSED]');
    expect(jwtOf('production')).toBe(before);

    hook.bodies.length = 0;
    const bypass = await cli('production', ['jwt', '--yes', '--emergency', '--reason', `incident 42 ${before}`]);
    expect(bypass.code).toBe(0);
    const record = JSON.parse((await cli('production', ['history', '--json'])).stdout).results[0];
    expect(record).toMatchObject({ emergency: true, promotion: { after: 'staging', bypassed: true } });
    expect(record.reason).toContain('incident 42');
    const posted = hook.events();
    expect(posted.some((p) => p.policy === 'promotion-bypassed' && p.secret === 'jwt' && p.environment === 'production')).toBe(true);

    const everything: Record<string, string> = { ...readTree(root), posted: JSON.stringify(posted), out: bypass.stdout + bypass.stderr };
    delete everything[join(dir('production'), '.env')];
    delete everything[join(dir('staging'), '.env')];
    expect(findLeaks(everything, [before, jwtOf('production'), jwtOf('staging')])).toEqual([]);
  });
});

// One preflight (src/engine/preflight.ts) for a run, a dry run and `rotate verify`: for each way a rotation can be
// refused before anything changes, the dry run's failing checks are exactly the checks that stop the real run (the
// same names and codes), and `rotate verify` reports its checks from the same list.
import { chmodSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../src/core-types.js';
import { preflightChecksOf, preflightSecrets } from '../../src/engine/preflight.js';
import type { SecretResult } from '../../src/engine/result.js';
import { rotate } from '../../src/engine/rotate.js';
import { verify } from '../../src/engine/verify.js';
import { RotateError } from '../../src/errors.js';
import { jwtRotator } from '../../src/secrets/jwt/index.js';
import { type TestSession, testSession } from '../helpers/session.js';

const OLD = 'old-value-0123456789-0123456789-abcdef';

/** A service's health URL: 503 until `up`. */
let up = false;
let health: Server;
let healthUrl: string;
beforeAll(async () => {
  health = createServer((_req, res) => res.writeHead(up ? 200 : 503).end());
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/healthz`;
});
afterAll(() => new Promise<void>((resolve) => health.close(() => resolve())));

const baseConfig = () => ({ services: { app: { restart: 'restart-app' } }, secrets: { jwt: { kind: 'jwt', services: ['app'] } } });

/** Each way a rotation is refused before anything changes, set up on a fresh session. */
const CONDITIONS: Record<string, { config?: () => Record<string, unknown>; envText?: string; arrange?(s: TestSession): Promise<void> }> = {
  'an interrupted run is pending': {
    arrange: (s) =>
      s.store.writeJournal({
        format: 2,
        runId: 'run-elsewhere',
        mode: 'rotate',
        startedAt: '2025-12-31T23:00:00Z',
        host: 'other-host',
        pid: 1,
        emergency: false,
        secrets: [],
        steps: [],
      }),
  },
  'the promotion gate is closed': {
    config: () => ({ ...baseConfig(), environment: 'production', promotion: { after: 'staging', withinDays: 14 } }),
    arrange: (s) =>
      s.store.appendHistory({
        at: '2025-11-01T00:00:00Z',
        runId: 'staging-run',
        secret: 'jwt',
        kind: 'jwt',
        action: 'rotate',
        result: 'rotated',
        actor: 'ops',
        environment: 'staging',
      }),
  },
  'the promotion gate names an environment no run was in': {
    config: () => ({ ...baseConfig(), environment: 'production', promotion: { after: 'staging', withinDays: 14 } }),
  },
  'a service has no restart command': {
    config: () => ({ ...baseConfig(), services: { app: { health: { url: 'http://127.0.0.1:9/never' } } } }),
  },
  'nothing restarts the app': { config: () => ({ ...baseConfig(), secrets: { jwt: { kind: 'jwt', services: [] } } }) },
  'the env key is missing': { envText: 'APP_ENV=production\n' },
  'the env file is writable by other users': { arrange: async (s) => chmodSync(s.envFile, 0o666) },
  'another key holds a copy of the value': { envText: `JWT_SECRET=${OLD}\nOTHER_SECRET=${OLD}\n` },
};

async function session(name: string): Promise<TestSession> {
  const condition = CONDITIONS[name]!;
  const s = testSession({
    rotator: jwtRotator,
    config: (condition.config ?? baseConfig)(),
    envText: condition.envText ?? `JWT_SECRET=${OLD}\n`,
  });
  await condition.arrange?.(s);
  return s;
}

const request = (dryRun: boolean) => ({
  ids: ['jwt'],
  due: false,
  all: false,
  dryRun,
  confirm: async () => {},
  localTime: (iso: string) => iso,
});

const failing = (checks: readonly Check[]) => checks.filter((c) => !c.ok).map((c) => ({ name: c.name, code: c.code }));

/** What stopped a real run: the error's code (a refusal), or the failed checks of a PREFLIGHT_FAILED result. */
async function realRunStop(s: TestSession): Promise<{ code: string; checks?: { name: string; code?: string }[] }> {
  let results: SecretResult[];
  try {
    results = (await rotate(s, request(false))).results;
  } catch (error) {
    if (!(error instanceof RotateError)) throw error;
    return { code: error.code };
  }
  const [result] = results;
  expect(result?.status).toBe('failed');
  return { code: result!.error!.code, checks: failing(result!.checks) };
}

describe('the dry run fails exactly the checks that stop the real run', () => {
  it.each(Object.keys(CONDITIONS))('%s', async (name) => {
    const dryRun = await session(name);
    const [plan] = (await rotate(dryRun, request(true))).results;
    const dryFailing = failing(plan!.checks);
    expect(plan!.status).toBe('preflight-failed');
    expect(dryFailing.length).toBeGreaterThan(0);

    const real = await session(name);
    const before = readFileSync(real.envFile, 'utf8');
    const stop = await realRunStop(real);
    if (stop.checks) {
      // Refused with PREFLIGHT_FAILED (exit 1): the very checks the dry run failed.
      expect(stop.code).toBe('PREFLIGHT_FAILED');
      expect(stop.checks).toEqual(dryFailing);
    } else {
      // Refused as the error a failing check stands for (exit 2 or 3): the dry run failed that check, with that code.
      expect(dryFailing.map((c) => c.code)).toEqual([stop.code]);
    }
    // Nothing changed: not the target, not the history, no run left behind.
    expect(readFileSync(real.envFile, 'utf8')).toBe(before);
    expect(real.commands).toEqual([]);
  });
});

describe('a service that is down before the run', () => {
  it('stops neither: the dry run and the run warn, the restart brings it up, the health wait decides', async () => {
    const config = () => ({ ...baseConfig(), services: { app: { restart: 'restart-app', health: { url: healthUrl } } } });
    up = false;
    const dryRun = testSession({ rotator: jwtRotator, config: config(), envText: `JWT_SECRET=${OLD}\n` });
    const [plan] = (await rotate(dryRun, request(true))).results;
    expect(plan!.status).toBe('planned');
    expect(plan!.checks.find((c) => c.name === 'service app is healthy')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('warning:'),
    });
    expect(dryRun.logged.some((m) => m.startsWith('service app is not healthy now'))).toBe(true);

    const real = testSession({ rotator: jwtRotator, config: config(), envText: `JWT_SECRET=${OLD}\n` });
    real.deps.runCommand = async (command) => {
      real.commands.push(command);
      up = true;
      return { code: 0, stdout: '', stderr: '' };
    };
    const [result] = (await rotate(real, request(false))).results;
    expect(result!.status).toBe('rotated');
    expect(real.commands).toEqual(['restart-app']);
    expect(real.logged.some((m) => m.startsWith('service app is not healthy now'))).toBe(true);
  });
});

describe('one list of checks, the mode deciding which apply', () => {
  it('a dry run takes every check a rotation takes, and no other', () => {
    expect(preflightChecksOf('dry-run')).toEqual(preflightChecksOf('rotate'));
  });

  it("rotate verify's checks come from the same list: the rotator's check of the current value", async () => {
    expect(preflightChecksOf('verify')).toHaveLength(1);
    const s = await session('the env key is missing');
    const [verified] = (await verify(s, ['jwt'])).results;
    expect(verified!.status).toBe('verify-failed');
    const snapshot = await s.target.read();
    const { buildContext } = await import('../../src/engine/context.js');
    const subject = { id: 'jwt', rotator: jwtRotator, ctx: buildContext(s, 'jwt', undefined, snapshot) };
    expect(verified!.checks).toEqual((await preflightSecrets(s, [subject], 'verify')).get('jwt')!.checks);
    // The same failing check the dry run and the real run stop on, by name.
    const [plan] = (await rotate(await session('the env key is missing'), request(true))).results;
    expect(failing(verified!.checks).map((c) => c.name)).toEqual(failing(plan!.checks).map((c) => c.name));
  });
});

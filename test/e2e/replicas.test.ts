// services.<n>.instances with the built CLI: two stand-in app replicas in one folder restart one at a time, so at
// every moment of the rotation one of them answers; a replica that does not come back rolls the rotation back
// while the other still serves.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authStatus, type StandInApp, standInApp } from '../helpers/app.js';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';

const OLD = 'old-signing-secret-0123456789-abcdefghijklmnop';

/** Polls both replicas' /healthz until stopped; counts the rounds in which neither answered. */
function watchReplicas(apps: StandInApp[]) {
  let stopped = false;
  let rounds = 0;
  let bothDown = 0;
  const up = (app: StandInApp) =>
    fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
  const loop = (async () => {
    while (!stopped) {
      const answers = await Promise.all(apps.map(up));
      rounds++;
      if (!answers.some(Boolean)) bothDown++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return { rounds, bothDown };
  };
}

describe('services.<n>.instances: replicas restarted one at a time', () => {
  let dir: string;
  let apps: StandInApp[];

  function writeConfig(secondRestart?: string) {
    const [one, two] = apps as [StandInApp, StandInApp];
    const config = {
      services: {
        backend: {
          instances: [
            { restart: one.restartCommand, health: { url: `${one.url}/healthz`, timeoutSeconds: 20 } },
            { restart: secondRestart ?? two.restartCommand, health: { url: `${two.url}/healthz`, timeoutSeconds: 3 } },
          ],
        },
      },
      secrets: { jwt: { kind: 'jwt', services: ['backend'], verify: { url: `${one.url}/api/auth/me`, claims: { id: '1' } } } },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  }
  const pid = (name: string) => readFileSync(join(dir, `${name}.pid`), 'utf8');
  const jwt = () => dotenv.parse(readFileSync(join(dir, '.env'))).JWT_SECRET!;

  beforeEach(async () => {
    dir = scratchDir('rotate-replicas-');
    writeFileSync(join(dir, '.env'), `APP_ENV=production\nJWT_SECRET=${OLD}\n`, { mode: 0o600 });
    apps = [await standInApp(dir, '.env', 'app1'), await standInApp(dir, '.env', 'app2')];
    writeConfig();
    await Promise.all(apps.map((app) => app.start()));
  });

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.stop()));
  });

  it('restarts each replica with the new value, one healthy before the next goes down', async () => {
    const before = [pid('app1'), pid('app2')];
    const plan = await runCli(['jwt', '--dry-run', '--json'], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    const checks = JSON.parse(plan.stdout).results[0].checks.map((c: { name: string }) => c.name);
    expect(checks).toEqual(expect.arrayContaining(['service backend[1] is healthy', 'service backend[2] is healthy']));

    const watch = watchReplicas(apps);
    const result = await runCli(['jwt', '--yes'], { cwd: dir });
    const seen = await watch();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/restarting backend\[1\][\s\S]*restarting backend\[2\]/);
    expect([pid('app1'), pid('app2')]).not.toContain(before[0]);
    expect(pid('app2')).not.toBe(before[1]);
    const value = jwt();
    expect(value).not.toBe(OLD);
    for (const app of apps) expect(await authStatus(app.url, value)).toBe(200);
    expect(seen.rounds).toBeGreaterThan(5);
    expect(seen.bothDown).toBe(0);
    expect(findLeaks({ stdout: result.stdout, stderr: result.stderr, ...readTree(join(dir, '.rotate')) }, [value, OLD])).toEqual([]);
  });

  it('a replica that does not come back rolls the rotation back while the other serves', async () => {
    // The second replica stops (gone before its health is asked) and stays down once the env file holds anything but the old value.
    const [, two] = apps as [StandInApp, StandInApp];
    writeConfig(
      `if grep -q 'JWT_SECRET=${OLD}' .env; then ${two.restartCommand}; else p=$(cat app2.pid); kill $p; while kill -0 $p 2>/dev/null; do sleep 0.02; done; fi`,
    );
    const watch = watchReplicas(apps);
    const result = await runCli(['jwt', '--yes'], { cwd: dir });
    const seen = await watch();
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('service backend[2] did not become healthy');
    // The rollback brings the replica that is down back first, then the one that served throughout.
    expect(result.stderr).toMatch(/rolling back\nrestarting backend\[2\]\nrestarting backend\[1\]/);
    expect(jwt()).toBe(OLD);
    for (const app of apps) expect(await authStatus(app.url, OLD)).toBe(200);
    expect(seen.bothDown).toBe(0);
  });

  it('refuses a count without {i} in restart, naming the path and the fix', async () => {
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify({ services: { backend: { instances: 2, restart: 'true' } } }));
    const result = await runCli(['status'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('services.backend');
    expect(result.stderr).toContain('{i}');
  });
});

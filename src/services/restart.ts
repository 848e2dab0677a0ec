import type { Config } from '../config/schema.js';
import { fetchErrorText } from '../connection/fetch-error.js';
import { type Check, check } from '../core-types.js';
import type { EngineDeps } from '../engine/session.js';
import { RotateError } from '../errors.js';
import { NO_REDIRECT, redirectText } from '../http/redirect.js';
import { redact } from '../secret-value.js';
import { safeCommand, safeUrl, traced } from '../trace.js';
import { type ServiceInstance, serviceInstances } from './instances.js';

/**
 * Restarts each named service with its configured command, then waits until its health URL answers 2xx. A service
 * with `instances` restarts one replica at a time, each waited for before the next, so the others keep serving; a
 * replica that does not come back stops here (the run rolls back) before any other replica goes down.
 */
export async function restartServices(names: readonly string[], config: Config, configDir: string, deps: EngineDeps): Promise<void> {
  for (const name of names) {
    const service = config.services[name];
    if (!service) continue;
    if (service.kubernetes) {
      // Loaded on demand: the Kubernetes client is large, and most runs restart with a shell command.
      const { rolloutRestart } = await import('./kubernetes.js');
      await rolloutRestart(name, config, deps);
      if (service.health) await waitHealthy(name, service.health.url, service.health.timeoutSeconds, deps);
      continue;
    }
    const instances = serviceInstances(name, service);
    for (const instance of instances.length > 1 ? await downFirst(instances, deps) : instances) {
      await restartInstance(instance, configDir, deps);
    }
  }
}

async function restartInstance(instance: ServiceInstance, configDir: string, deps: EngineDeps): Promise<void> {
  const { label, restart: command, health } = instance;
  if (command) {
    deps.log.info(`restarting ${label}`);
    const result = await traced(
      `restart ${label}: /bin/sh -c ${JSON.stringify(safeCommand(command))} in ${configDir}`,
      () => deps.runCommand(command, configDir),
      (r) => `exit ${r.code}`,
    );
    if (result.code !== 0) {
      const tail = redact(`${result.stderr}${result.stdout}`).trim().split('\n').slice(-5).join('\n');
      throw new RotateError('RESTART_FAILED', `the restart command of service ${label} exited with ${result.code}`, {
        hint: `check ${instance.path}.restart in the config; it printed:\n${tail}`,
      });
    }
  }
  if (health) await waitHealthy(label, health.url, health.timeoutSeconds, deps, instance.path);
}

/**
 * Replicas that do not answer now restart first: they serve nothing, and after a replica failed its health (the
 * rollback's restart) bringing it back before taking a healthy one down keeps one serving throughout.
 */
async function downFirst(instances: ServiceInstance[], deps: EngineDeps): Promise<ServiceInstance[]> {
  const up = await Promise.all(instances.map((instance) => (instance.health ? answers(instance.health.url, deps) : true)));
  return [...instances.filter((_, i) => !up[i]), ...instances.filter((_, i) => up[i])];
}

async function answers(url: string, deps: EngineDeps): Promise<boolean> {
  try {
    const response = await deps.fetch(url, { ...NO_REDIRECT, signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

export function waitHealthy(name: string, url: string, timeoutSeconds: number, deps: EngineDeps, path = `services.${name}`): Promise<void> {
  return traced(`health of ${name}: wait for ${safeUrl(url)} to answer 2xx (up to ${timeoutSeconds} s)`, () =>
    pollHealth(name, url, timeoutSeconds, deps, path),
  );
}

async function pollHealth(name: string, url: string, timeoutSeconds: number, deps: EngineDeps, path: string): Promise<void> {
  const deadline = deps.now().getTime() + timeoutSeconds * 1000;
  let last = 'no answer';
  while (deps.now().getTime() < deadline) {
    try {
      const response = await deps.fetch(url, { ...NO_REDIRECT, signal: AbortSignal.timeout(5000) });
      await response.body?.cancel();
      if (response.ok) {
        deps.log.debug(`${name} is healthy (${safeUrl(url)} answered ${response.status})`);
        return;
      }
      last = redirectText(response, url) ?? `HTTP ${response.status}`;
    } catch (error) {
      last = fetchErrorText(error);
    }
    await deps.sleep(300);
  }
  throw new RotateError('HEALTH_TIMEOUT', `service ${name} did not become healthy within ${timeoutSeconds}s (${safeUrl(url)}: ${last})`, {
    hint: `check that the service starts with the new values; raise ${path}.health.timeoutSeconds if it is only slow`,
  });
}

/**
 * Read-only checks that the named services can be restarted, for a run's preflight and `--dry-run` alike
 * (engine/preflight.ts): each replica of a shell service has a restart command; a Kubernetes workload exists and
 * rotate may patch it (`services/kubernetes.ts`). Each health URL is asked too: one that does not answer 2xx now is a
 * warning, not a failure, for both (the restart may be what brings the service up; the health wait after it decides).
 */
export async function preflightServices(names: readonly string[], config: Config, deps: EngineDeps): Promise<Check[]> {
  const checks: Check[] = [];
  for (const name of names) {
    const service = config.services[name];
    if (!service) continue;
    if (service.kubernetes) {
      const { workloadChecks } = await import('./kubernetes.js');
      checks.push(...(await workloadChecks(name, config)));
      if (service.health) checks.push(await healthCheck(name, service.health.url, `services.${name}`, deps));
      continue;
    }
    for (const instance of serviceInstances(name, service)) {
      checks.push(
        check(
          'service-restart-command',
          `service ${instance.label} has a restart command`,
          Boolean(instance.restart),
          undefined,
          `add ${instance.path}.restart`,
        ),
      );
      if (instance.health) checks.push(await healthCheck(instance.label, instance.health.url, instance.path, deps));
    }
  }
  return checks;
}

/**
 * Whether the service answers its health URL now with a 2xx (no redirect followed). One that does not passes with a
 * warning, said on stderr: a real run goes on (its restart may start the service; the health wait after the restart
 * fails and rolls back the rotation if it does not), so a dry run must not fail it either.
 */
async function healthCheck(label: string, url: string, path: string, deps: EngineDeps): Promise<Check> {
  const name = `service ${label} is healthy`;
  let seen: string;
  try {
    const response = await deps.fetch(url, { ...NO_REDIRECT, signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    const redirect = redirectText(response, url);
    if (response.ok && !redirect) return check('service-healthy', name, true, `${safeUrl(url)} answered ${response.status}`);
    seen = `${safeUrl(url)} ${redirect ?? `answered ${response.status}`}`;
  } catch (error) {
    seen = `${safeUrl(url)}: ${fetchErrorText(error)}`;
  }
  const warning = `service ${label} is not healthy now (${seen}): its restart must bring it up within ${path}.health.timeoutSeconds, or the rotation rolls back`;
  deps.log.warn(warning);
  return check('service-healthy', name, true, `warning: ${warning}`);
}

import { randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Session } from '../engine/session.js';
import { RotateError } from '../errors.js';
import { runHook } from '../hooks/run.js';
import type { HookPoint } from '../hooks/schema.js';
import { redact, SecretValue } from '../secret-value.js';
import { envKeysOf } from '../secrets/index.js';
import { restartServices } from '../services/restart.js';
import type { FleetStore } from '../store/fleet.js';
import { envFilesOf } from '../target/index.js';
import { trace } from '../trace.js';
import { AgentHookJournal } from './hook-journal.js';
import { changesFor, type FleetPayload, unsealFleetEnv } from './values.js';

/** What one pass of `rotate agent` did on this host (the `--json` item). */
export interface AgentResult {
  host: string;
  /** idle: no values published; current: already acknowledged; applied / failed: this pass; left: --leave; planned: --dry-run. */
  status: 'idle' | 'current' | 'applied' | 'failed' | 'left' | 'planned';
  runId?: string;
  fingerprint?: string;
  /** Env keys written on this host (names only). */
  keys?: string[];
  services?: string[];
  error?: { code: string; message: string; hint?: string };
}

/** The file beside the config that names this folder's agent: a host name is held by one agent only. */
const AGENT_ID_FILE = '.rotate-agent-id';

async function agentId(configDir: string, create: boolean): Promise<string | undefined> {
  const path = join(configDir, AGENT_ID_FILE);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    if (!create) return undefined;
    const id = randomUUID();
    await writeFile(path, `${id}\n`, { mode: 0o644 });
    return id;
  }
}

export function fleetOf(session: Session): FleetStore {
  if (session.store.fleet) return session.store.fleet;
  throw new RotateError(
    'FLEET_NEEDS_POSTGRES',
    `rotate agent needs the shared postgres store; this config uses ${session.store.location}`,
    {
      hint: 'set store.type to postgres (with store.urlEnv) and ROTATE_MASTER_KEY, the same as on the rotating host',
    },
  );
}

/** `rotate agent --leave`: this host leaves the fleet; rotations stop waiting for it. */
export async function leaveFleet(session: Session, host: string): Promise<AgentResult> {
  const fleet = fleetOf(session);
  const id = await agentId(session.configDir, false);
  const left = id ? await fleet.leave(host, id) : false;
  if (!left) {
    throw new RotateError('FLEET_HOST_TAKEN', `this folder's agent has not registered ${host}; nothing was changed`, {
      hint: `run --leave in the folder of the agent that registered ${host} (its ${AGENT_ID_FILE}), or pass the --host it used`,
    });
  }
  await rm(join(session.configDir, AGENT_ID_FILE), { force: true });
  return { host, status: 'left' };
}

/**
 * One pass of the agent: registers the host, and when a run published values this host has not acknowledged,
 * applies them (the same byte-preserving write), restarts its services with their health waits, checks that the
 * env files hold them, runs the `every` hooks, and acknowledges (host, fingerprint, result). Safe to repeat: a pass
 * killed half-way applies the same values again next time.
 */
export async function agentPass(session: Session, host: string): Promise<AgentResult> {
  const fleet = fleetOf(session);
  const id = (await agentId(session.configDir, true))!;
  const serviceNames = Object.keys(session.config.services);
  await fleet.register({ name: host, agentId: id, envFiles: envFilesOf(session.config.target), services: serviceNames });
  const desired = await fleet.desired();
  if (!desired) return { host, status: 'idle' };
  const mine = (await fleet.acks()).find((a) => a.host === host);
  if (mine && mine.runId === desired.runId && mine.fingerprint === desired.fingerprint && mine.result === 'ok') {
    return { host, status: 'current', runId: desired.runId, fingerprint: desired.fingerprint };
  }
  const base = { host, runId: desired.runId, fingerprint: desired.fingerprint };
  try {
    const journal = await AgentHookJournal.open(session.configDir, desired.runId, desired.fingerprint);
    const payload = await unsealFleetEnv(session.store, desired.runId, desired.sealed);
    const applied = await apply(session, desired.secrets, payload, journal);
    await fleet.acknowledge({ host, runId: desired.runId, fingerprint: desired.fingerprint, result: 'ok', detail: null });
    await journal.clear();
    session.deps.log.info(
      `${host}: applied run ${desired.runId} (${applied.keys.join(', ') || 'no key of this host'}) and acknowledged it`,
    );
    return { ...base, status: 'applied', ...applied };
  } catch (error) {
    const e = error as RotateError;
    // The code leads the reason the rotating host shows (HOOK_INTERRUPTED: ..., HEALTH_TIMEOUT: ...).
    const message = redact(`${e instanceof RotateError ? `${e.code}: ` : ''}${e.message ?? String(error)}`);
    await fleet.acknowledge({ host, runId: desired.runId, fingerprint: desired.fingerprint, result: 'failed', detail: message });
    const hint = e.hint ? redact(e.hint) : undefined;
    return { ...base, status: 'failed', error: { code: 'FLEET_APPLY_FAILED', message: `${host}: ${message}`, ...(hint ? { hint } : {}) } };
  }
}

/**
 * `rotate agent --dry-run`: what a pass would do here, read-only (no registration, no write, no acknowledgement):
 * the keys it would write and the services it would restart, or that there is nothing to do.
 */
export async function agentPlan(session: Session, host: string): Promise<AgentResult> {
  const fleet = fleetOf(session);
  const desired = await fleet.desired();
  if (!desired) return { host, status: 'idle' };
  const mine = (await fleet.acks()).find((a) => a.host === host);
  const base = { host, runId: desired.runId, fingerprint: desired.fingerprint };
  if (mine && mine.runId === desired.runId && mine.fingerprint === desired.fingerprint && mine.result === 'ok')
    return { ...base, status: 'current' };
  const payload = await unsealFleetEnv(session.store, desired.runId, desired.sealed);
  const before = await session.target.read();
  const ids = desired.secrets.filter((id) => session.config.secrets[id]);
  return {
    ...base,
    status: 'planned',
    keys: Object.keys(changesFor(payload, before.values)),
    services: [...new Set(ids.flatMap((id) => session.config.secrets[id]!.services))],
  };
}

/** Writes the keys this host's env files hold, restarts the services of the secrets, checks, runs `every` hooks. */
async function apply(
  session: Session,
  secrets: string[],
  payload: FleetPayload,
  journal: AgentHookJournal,
): Promise<{ keys: string[]; services: string[] }> {
  const { target, config, configDir, deps } = session;
  const { env } = payload;
  const before = await target.read();
  // A host gets the keys it has (and a secret's other new keys): a worker without JWT_SECRET is not given one. A
  // removal (null) only where present.
  const changes = changesFor(payload, before.values);
  const ids = secrets.filter((id) => config.secrets[id]);
  const hooks = async (point: HookPoint) => {
    for (const id of ids) {
      const hook = config.secrets[id]?.hooks?.[point];
      if (!hook || hook.runOn !== 'every') continue;
      const key = envKeysOf(config.secrets[id]!)[0] ?? '';
      const next = env[key];
      const old = before.values[key];
      // Journaled on this host: done is not run twice; started (a pass killed while it ran) only when idempotent.
      const name = `${point} ${id}`;
      const earlier = journal.state(name);
      if (earlier?.state === 'done') {
        deps.log.info(`hook ${point} of ${id}: ran to the end at ${earlier.at} for these values; not run again`);
        continue;
      }
      if (earlier?.state === 'started' && !hook.idempotent) {
        throw new RotateError(
          'HOOK_INTERRUPTED',
          `hook ${point} of ${id} started at ${earlier.at} on this host and did not finish (the agent stopped while it ran): rotate cannot know what it did`,
          {
            hint: `check what secrets.${id}.hooks.${point}.run did here; if running it again is safe, set its "idempotent": true in this host's config, then run rotate agent again`,
          },
        );
      }
      await journal.mark(name, 'started', deps.now().toISOString());
      try {
        await runHook(
          id,
          point,
          hook,
          { newValue: next ? new SecretValue(next) : undefined, oldValue: old ? new SecretValue(old) : undefined },
          configDir,
          deps,
        );
      } catch (error) {
        // It ended, with a failure: the next pass runs it again (nothing unknown about it).
        await journal.mark(name, 'failed', deps.now().toISOString());
        throw error;
      }
      await journal.mark(name, 'done', deps.now().toISOString());
    }
  };
  await hooks('before');
  const changed = Object.entries(changes).some(([key, value]) => (before.values[key] ?? null) !== value);
  if (changed) await target.write(changes);
  trace(`agent: ${changed ? 'wrote' : 'already held'} ${Object.keys(changes).join(', ')}`);
  // Restarted even when the file already held the values: a pass killed after its write left the old processes.
  const services = [...new Set(ids.flatMap((id) => config.secrets[id]!.services))];
  await restartServices(services, config, configDir, deps);
  await hooks('afterApply');
  const after = await target.read();
  const wrong = Object.entries(changes).filter(([key, value]) => (after.values[key] ?? null) !== value);
  if (wrong.length > 0) {
    throw new RotateError(
      'FLEET_APPLY_FAILED',
      `${wrong.map(([k]) => k).join(', ')} in ${target.description} do not hold the published values after the write`,
      {
        hint: 'another writer changed the env file; run rotate agent --once again',
      },
    );
  }
  await hooks('afterVerify');
  return { keys: Object.keys(changes), services };
}

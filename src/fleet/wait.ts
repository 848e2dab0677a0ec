import type { EngineDeps } from '../engine/session.js';
import { RotateError } from '../errors.js';
import { redact } from '../secret-value.js';
import type { FleetStore } from '../store/fleet.js';

/** A host that has not acknowledged the values the run wants: gone quiet, or failed to apply them. */
export interface LaggingHost {
  host: string;
  reason: string;
}

/** Registered hosts whose acknowledgement is not an `ok` for this run's values. */
export async function laggingHosts(fleet: FleetStore, runId: string, fingerprint: string): Promise<LaggingHost[]> {
  const [hosts, acks] = await Promise.all([fleet.hosts(), fleet.acks()]);
  const lagging: LaggingHost[] = [];
  for (const host of hosts) {
    const ack = acks.find((a) => a.host === host.name);
    if (ack && ack.runId === runId && ack.fingerprint === fingerprint && ack.result === 'ok') continue;
    const failed = ack && ack.runId === runId && ack.fingerprint === fingerprint && ack.result === 'failed';
    lagging.push({
      host: host.name,
      reason: failed ? `failed: ${redact(ack.detail ?? 'no detail')}` : `no acknowledgement (agent last seen ${host.seenAt})`,
    });
  }
  return lagging;
}

/** What the rotating host waits for the fleet to apply: a rotation's new values, a rollback, or the retire changes. */
export type FleetWaitFor = 'rotate' | 'rollback' | 'retire';

const WHAT: Record<FleetWaitFor, string> = { rotate: 'the new values', rollback: 'the rollback', retire: 'the retire changes' };
/** What a lagging host means for each wait: the state the hosts named are left in. */
const LEFT: Record<FleetWaitFor, string> = {
  rotate: 'the old value stays valid',
  rollback: 'rolled back on this host, but the hosts named may still run the new value',
  retire: 'retired on this host, but the hosts named may still hold the old value',
};

/** How often a wait says who it is still waiting for, when nothing changed. */
const PROGRESS_MS = 10_000;

/**
 * Waits until every registered host acknowledged `fingerprint` for `runId`, looking every second; a host that
 * reports a failure ends the wait at once. It says on stderr whom it waits for, each host as it acknowledges, and
 * every 10 s who is left. Throws FLEET_LAGGING (a rotation's values: the old value stays valid),
 * FLEET_ROLLBACK_LAGGING or FLEET_RETIRE_LAGGING (exit 3), naming the hosts and why.
 */
export async function waitForFleet(
  fleet: FleetStore,
  runId: string,
  fingerprint: string,
  ackSeconds: number,
  deps: EngineDeps,
  waitFor: FleetWaitFor = 'rotate',
): Promise<void> {
  const what = WHAT[waitFor];
  const started = deps.now().getTime();
  const deadline = started + ackSeconds * 1000;
  const left = () => Math.max(0, Math.ceil((deadline - deps.now().getTime()) / 1000));
  const names = (hosts: LaggingHost[]) => hosts.map((h) => h.host).join(', ');
  let lagging = await laggingHosts(fleet, runId, fingerprint);
  if (lagging.length === 0) return;
  deps.log.info(`waiting for ${names(lagging)} to acknowledge ${what} (up to ${ackSeconds} s)`);
  let said = started;
  while (lagging.length > 0 && !lagging.some((h) => h.reason.startsWith('failed')) && deps.now().getTime() < deadline) {
    await deps.sleep(1000);
    const before = lagging;
    lagging = await laggingHosts(fleet, runId, fingerprint);
    const acknowledged = before.filter((h) => !lagging.some((l) => l.host === h.host));
    const now = deps.now().getTime();
    if (acknowledged.length > 0) {
      deps.log.info(
        `${names(acknowledged)} acknowledged ${what}${lagging.length > 0 ? `; still waiting for ${names(lagging)} (${left()} s left)` : ''}`,
      );
      said = now;
    } else if (lagging.length > 0 && now - said >= PROGRESS_MS) {
      deps.log.info(`still waiting for ${names(lagging)} to acknowledge ${what} (${left()} s left)`);
      said = now;
    }
  }
  if (lagging.length === 0) {
    deps.log.info(`every host of the fleet acknowledged ${what}`);
    return;
  }
  const hosts = names(lagging);
  throw new RotateError(
    waitFor === 'rollback' ? 'FLEET_ROLLBACK_LAGGING' : waitFor === 'retire' ? 'FLEET_RETIRE_LAGGING' : 'FLEET_LAGGING',
    `${lagging.length === 1 ? 'host' : 'hosts'} ${lagging.map((h) => `${h.host} (${h.reason})`).join(', ')} did not acknowledge ${what} within ${ackSeconds}s; ${LEFT[waitFor]}`,
    {
      hint:
        waitFor === 'rotate'
          ? `fix or start \`rotate agent\` on ${hosts}, then \`rotate resume\`; a host that is gone leaves the fleet with \`rotate agent --leave\``
          : `fix or start \`rotate agent\` on ${hosts}, then \`rotate resume\`: it publishes ${what} again and waits for them; a host that is gone leaves the fleet with \`rotate agent --leave\``,
    },
  );
}

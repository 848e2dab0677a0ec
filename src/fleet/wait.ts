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

/**
 * Waits until every registered host acknowledged `fingerprint` for `runId`, looking every second; a host that
 * reports a failure ends the wait at once. Throws FLEET_LAGGING (exit 3) naming the hosts: the old value stays valid.
 */
export async function waitForFleet(
  fleet: FleetStore,
  runId: string,
  fingerprint: string,
  ackSeconds: number,
  deps: EngineDeps,
): Promise<void> {
  const deadline = deps.now().getTime() + ackSeconds * 1000;
  let lagging = await laggingHosts(fleet, runId, fingerprint);
  if (lagging.length > 0)
    deps.log.info(`waiting for ${lagging.map((h) => h.host).join(', ')} to acknowledge the new values (up to ${ackSeconds} s)`);
  while (lagging.length > 0 && !lagging.some((h) => h.reason.startsWith('failed')) && deps.now().getTime() < deadline) {
    await deps.sleep(1000);
    lagging = await laggingHosts(fleet, runId, fingerprint);
  }
  if (lagging.length === 0) return;
  throw new RotateError(
    'FLEET_LAGGING',
    `${lagging.length === 1 ? 'host' : 'hosts'} ${lagging.map((h) => `${h.host} (${h.reason})`).join(', ')} did not acknowledge the new values within ${ackSeconds}s; the old value stays valid`,
    {
      hint: `fix or start \`rotate agent\` on ${lagging.map((h) => h.host).join(', ')}, then \`rotate resume\`; a host that is gone leaves the fleet with \`rotate agent --leave\``,
    },
  );
}

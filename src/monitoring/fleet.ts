import type { Session } from '../engine/session.js';
import { laggingHosts } from '../fleet/wait.js';
import { escapeLabelValue } from './exposition.js';

/** A host of the fleet as monitoring sees it: whether it acknowledged the values published last. */
export interface FleetHostHealth {
  host: string;
  seenAt: string;
  upToDate: boolean;
  /** Why not (no acknowledgement, or the failure it reported, redacted). */
  reason?: string;
}

/** The registered hosts (none without the postgres store or without agents), each up to date or lagging. */
export async function fleetHealth(session: Pick<Session, 'store'>): Promise<FleetHostHealth[]> {
  const fleet = session.store.fleet;
  if (!fleet) return [];
  const [hosts, desired] = await Promise.all([fleet.hosts(), fleet.desired()]);
  const lagging = desired ? await laggingHosts(fleet, desired.runId, desired.fingerprint) : [];
  return hosts.map((h) => {
    const lag = lagging.find((l) => l.host === h.name);
    return { host: h.name, seenAt: h.seenAt, upToDate: !lag, ...(lag ? { reason: lag.reason } : {}) };
  });
}

/** `rotate status --check`: one line per lagging host. */
export const fleetProblems = (hosts: FleetHostHealth[]): string[] =>
  hosts
    .filter((h) => !h.upToDate)
    .map((h) => `fleet host ${h.host} has not applied the values published last (${h.reason}): check its rotate agent, then rotate resume`);

/** Gauges per host of the fleet, for `rotate metrics` (nothing without a fleet). */
export function fleetMetricsText(hosts: FleetHostHealth[]): string {
  if (hosts.length === 0) return '';
  const label = (h: FleetHostHealth) => `{host="${escapeLabelValue(h.host)}"}`;
  return `${[
    '# HELP rotate_fleet_host_up_to_date 1 when the host acknowledged the values a rotation published last (or none was published); 0 while it lags.',
    '# TYPE rotate_fleet_host_up_to_date gauge',
    ...hosts.map((h) => `rotate_fleet_host_up_to_date${label(h)} ${h.upToDate ? 1 : 0}`),
    "# HELP rotate_fleet_host_last_seen_timestamp_seconds When the host's rotate agent last registered, as Unix seconds.",
    '# TYPE rotate_fleet_host_last_seen_timestamp_seconds gauge',
    ...hosts.map((h) => `rotate_fleet_host_last_seen_timestamp_seconds${label(h)} ${Math.floor(Date.parse(h.seenAt) / 1000)}`),
  ].join('\n')}\n`;
}

import { canonicalJson } from '../history/audit.js';
import type { Store } from '../store/types.js';

/** The values a run wants on every host: env keys to their new value, or null to remove the line. */
export type FleetEnv = Record<string, string | null>;

const PURPOSE = 'fleet-desired';

/** A keyed fingerprint of the whole set (never a value), the same on every host that has the master key. */
export async function fleetFingerprint(store: Pick<Store, 'mac'>, env: FleetEnv): Promise<string> {
  return (await store.mac('fleet-fingerprint', canonicalJson(env))).slice(0, 16);
}

export const sealFleetEnv = (store: Pick<Store, 'seal'>, runId: string, env: FleetEnv): Promise<string> =>
  store.seal(JSON.stringify({ env }), `${PURPOSE}:${runId}`);

export async function unsealFleetEnv(store: Pick<Store, 'unseal'>, runId: string, sealed: string): Promise<FleetEnv> {
  return (JSON.parse(await store.unseal(sealed, `${PURPOSE}:${runId}`)) as { env: FleetEnv }).env;
}

import { canonicalJson } from '../history/audit.js';
import type { Store } from '../store/types.js';

/** The values a run wants on every host: env keys to their new value, or null to remove the line. */
export type FleetEnv = Record<string, string | null>;

const PURPOSE = 'fleet-desired';

/** A keyed fingerprint of the whole set (never a value), the same on every host that has the master key. */
export async function fleetFingerprint(store: Pick<Store, 'mac'>, env: FleetEnv): Promise<string> {
  return (await store.mac('fleet-fingerprint', canonicalJson(env))).slice(0, 16);
}

/**
 * The env keys of each secret of the run (`JWT_SECRET` with `JWT_SECRET_PREVIOUS` during a grace period): a host
 * that holds one key of a secret is given the others it lacks, so the old value stays valid there too.
 */
export type FleetGroups = Record<string, string[]>;

export interface FleetPayload {
  env: FleetEnv;
  groups: FleetGroups;
}

export const sealFleetEnv = (store: Pick<Store, 'seal'>, runId: string, env: FleetEnv, groups: FleetGroups = {}): Promise<string> =>
  store.seal(JSON.stringify({ env, groups }), `${PURPOSE}:${runId}`);

export async function unsealFleetEnv(store: Pick<Store, 'unseal'>, runId: string, sealed: string): Promise<FleetPayload> {
  const payload = JSON.parse(await store.unseal(sealed, `${PURPOSE}:${runId}`)) as { env: FleetEnv; groups?: FleetGroups };
  return { env: payload.env, groups: payload.groups ?? {} };
}

/**
 * The keys of `env` a host whose env files hold `held` writes: the keys it has, and a new key (not a removal) of a
 * secret it has another key of. A worker without JWT_SECRET is not given one; one with it gets JWT_SECRET_PREVIOUS.
 */
export function changesFor({ env, groups }: FleetPayload, held: Record<string, unknown>): FleetEnv {
  const companions = new Set(
    Object.values(groups)
      .filter((keys) => keys.some((key) => key in held))
      .flat(),
  );
  return Object.fromEntries(Object.entries(env).filter(([key, value]) => key in held || (value !== null && companions.has(key))));
}

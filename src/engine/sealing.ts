import { SecretValue } from '../secret-value.js';
import type { EnvChanges, Rotation } from '../secrets/types.js';
import type { SealedRotation, Store } from '../store/types.js';

type Plain = Record<string, string | null>;

const reveal = (changes: EnvChanges | undefined): Plain | undefined =>
  changes && Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, v === null ? null : v.reveal()]));

const wrap = (plain: Plain | undefined): EnvChanges | undefined =>
  plain && Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, v === null ? null : new SecretValue(v)]));

/** Env changes as the env editor takes them; only the env-file writer calls this. */
export const revealEnv = (changes: EnvChanges): Plain => reveal(changes) ?? {};

export async function sealRotation(store: Store, secret: string, rotation: Rotation): Promise<SealedRotation> {
  const secrets = Object.fromEntries(Object.entries(rotation.secrets).flatMap(([k, v]) => (v ? [[k, v.reveal()]] : [])));
  const payload = JSON.stringify({
    env: reveal(rotation.env),
    retireEnv: reveal(rotation.retireEnv),
    stageEnv: reveal(rotation.stageEnv),
    ...(rotation.retireWithoutRestart ? { retireWithoutRestart: true } : {}),
    secrets,
  });
  return {
    facts: rotation.facts,
    envKeys: [
      ...new Set([...Object.keys(rotation.env), ...Object.keys(rotation.retireEnv ?? {}), ...Object.keys(rotation.stageEnv ?? {})]),
    ],
    sealed: await store.seal(payload, `rotation:${secret}`),
  };
}

export async function unsealRotation(store: Store, secret: string, sealed: SealedRotation): Promise<Rotation> {
  const payload = JSON.parse(await store.unseal(sealed.sealed, `rotation:${secret}`)) as {
    env: Plain;
    retireEnv?: Plain;
    stageEnv?: Plain;
    retireWithoutRestart?: true;
    secrets: Record<string, string>;
  };
  const retireEnv = wrap(payload.retireEnv);
  const stageEnv = wrap(payload.stageEnv);
  return {
    env: wrap(payload.env) ?? {},
    ...(retireEnv ? { retireEnv } : {}),
    ...(stageEnv ? { stageEnv } : {}),
    ...(payload.retireWithoutRestart ? { retireWithoutRestart: true } : {}),
    secrets: Object.fromEntries(Object.entries(payload.secrets).map(([k, v]) => [k, new SecretValue(v)])),
    facts: sealed.facts,
  };
}

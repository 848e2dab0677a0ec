import * as z from 'zod/mini';
import { RotateError } from '../errors.js';
import { SecretValue } from '../secret-value.js';
import type { EnvChanges, Rotation, RotationSchema } from '../secrets/types.js';
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

/** Where a rotation read back was kept, for the error when it does not decode: the journal file, the state. */
export interface KeptAt {
  /** `the journal of run <id> (<file>)`, `the last rotation of <secret> in <store>`. */
  where: string;
  /** What a person does about it. */
  hint: string;
}

const envChanges = z.record(z.string(), z.nullable(z.string()));

/** The sealed payload as `sealRotation` writes it; the kind's schema then says what its secrets must hold. */
const payloadSchema = z.object({
  env: envChanges,
  retireEnv: z.optional(envChanges),
  stageEnv: z.optional(envChanges),
  retireWithoutRestart: z.optional(z.literal(true)),
  secrets: z.record(z.string(), z.string()),
});

const sealedSchema = z.object({ facts: z.record(z.string(), z.json()), envKeys: z.array(z.string()), sealed: z.string() });

/** Secrets the engine keeps beside a kind's own (`rotate:hook-old-value`): no kind's schema names them. */
const ENGINE_SECRET = 'rotate:';

/** A zod failure as `secrets.new: expected string`; zod's messages name types, never the values. */
const firstIssue = (error: z.core.$ZodError): string => {
  const issue = error.issues[0];
  return issue ? `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}` : 'does not decode';
};

/**
 * A rotation read back from the store, decoded once against its kind's schema before any rotator sees it. Whatever
 * the kind, one that does not decode (a field missing, of the wrong type, a payload that is not JSON) is
 * STORE_CORRUPT, naming where it was kept; a payload the master key does not open stays the vault's error.
 */
export async function unsealRotation<R extends Rotation>(
  store: Store,
  secret: string,
  kept: unknown,
  schema: RotationSchema<R>,
  at: KeptAt,
): Promise<R> {
  const damaged = (problem: string) =>
    new RotateError('STORE_CORRUPT', `${at.where}: the rotation of ${secret} is damaged (${problem})`, { hint: at.hint });
  const sealed = sealedSchema.safeParse(kept);
  if (!sealed.success) throw damaged(firstIssue(sealed.error));
  let json: unknown;
  try {
    json = JSON.parse(await store.unseal(sealed.data.sealed, `rotation:${secret}`));
  } catch (error) {
    if (error instanceof RotateError) throw error;
    throw damaged('its sealed values are not JSON');
  }
  const payload = payloadSchema.safeParse(json);
  if (!payload.success) throw damaged(firstIssue(payload.error));
  const own = schema.secrets.safeParse(payload.data.secrets);
  if (!own.success) throw damaged(`secrets.${firstIssue(own.error)}`);
  const facts = schema.facts.safeParse(sealed.data.facts);
  if (!facts.success) throw damaged(`facts.${firstIssue(facts.error)}`);
  const engine = Object.entries(payload.data.secrets).filter(([name]) => name.startsWith(ENGINE_SECRET));
  const secrets = Object.fromEntries(
    [...Object.entries(own.data as Record<string, string | undefined>), ...engine].flatMap(([name, value]) =>
      value === undefined ? [] : [[name, new SecretValue(value)]],
    ),
  );
  const retireEnv = wrap(payload.data.retireEnv);
  const stageEnv = wrap(payload.data.stageEnv);
  return {
    env: wrap(payload.data.env) ?? {},
    ...(retireEnv ? { retireEnv } : {}),
    ...(stageEnv ? { stageEnv } : {}),
    ...(payload.data.retireWithoutRestart ? { retireWithoutRestart: true } : {}),
    secrets,
    facts: sealed.data.facts,
  } as Rotation as R;
}

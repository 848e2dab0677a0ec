import type { Kind, SecretConfig, SecretConfigOf } from '../config/schema.js';
import { dotenvxKind } from './dotenvx/kind.js';
import { exchangeKeyKind } from './exchange-key/kind.js';
import type { Facts, FactsMoment } from './facts.js';
import { jwtKind } from './jwt/kind.js';
import { postgresKind } from './postgres/kind.js';
import { randomKind } from './random/kind.js';
import { redisKind } from './redis/kind.js';
import { stripeKind } from './stripe/kind.js';
import type { ConsentRun, OneTimeSetup, RotationWrites, Rotator, RunOverrides, SecretKind } from './types.js';

/** The registry: one entry per kind, each declared in its own folder (`<kind>/kind.ts`), in the order of the built-in defaults. */
const kinds: { [K in Kind]: SecretKind<SecretConfigOf<K>> } = {
  jwt: jwtKind,
  'exchange-key': exchangeKeyKind,
  postgres: postgresKind,
  redis: redisKind,
  stripe: stripeKind,
  dotenvx: dotenvxKind,
  random: randomKind,
};

/** Every kind, for the config and `rotate init` to assemble their parts from. */
export const secretKinds: readonly SecretKind<SecretConfig>[] = Object.values(kinds) as SecretKind<SecretConfig>[];

const entryOf = <C extends SecretConfig>(kind: C['kind']) => kinds[kind] as unknown as SecretKind<C>;

export async function loadRotator<C extends SecretConfig>(kind: C['kind']): Promise<Rotator<C>> {
  return entryOf<C>(kind).load();
}

/** Env keys a secret writes, without loading its rotator (status and plans need only this). */
export const envKeysOf = (config: SecretConfig): string[] => entryOf(config.kind).envKeys(config);

/** The keys a run of this secret writes, for plans (SecretKind.keysWritten; all of its env keys by default). */
export const keysWrittenOf = (config: SecretConfig, run: { emergency: boolean }): string[] =>
  entryOf(config.kind).keysWritten?.(config, run) ?? envKeysOf(config);

/** Process environment variables that hold credentials of this secret (never handed to a child process). */
export const credentialEnvNamesOf = (config: SecretConfig): string[] => entryOf(config.kind).credentialEnvNames(config);

/** Which optional target writes a secret's rotations make (its kind's `writes`), without loading its rotator. */
export const rotationWritesOf = (config: SecretConfig, run: { emergency: boolean }): RotationWrites =>
  entryOf(config.kind).writes?.(config, run) ?? { stage: false, onRetire: false };

/** A secret's config with this run's command-line overrides applied by its kind. */
export const withRunOverrides = (config: SecretConfig, run: RunOverrides): SecretConfig =>
  entryOf(config.kind).withOverrides?.(config, run) ?? config;

/** Whether the engine writes this secret's `alsoUpdate` keys as bare copies of its main value. */
export const writesBareCopies = (config: SecretConfig): boolean => entryOf(config.kind).bareCopies === true;

/** The one-time setup of a secret's kind (`rotate setup`), or undefined when its kind needs none. */
export const loadSetup = async <C extends SecretConfig>(config: C): Promise<OneTimeSetup<C> | undefined> =>
  entryOf<C>(config.kind).setup?.(config);

/** A result's facts as sentences, by its kind (src/secrets/<kind>/kind.ts); none for a kind rotate does not know. */
export const factSentences = (kind: string, facts: Facts, moment: FactsMoment): string[] =>
  kind in kinds ? entryOf(kind as Kind).describeFacts(facts, moment) : [];

/** What a rotation of this secret costs, in sentences for the plan before consent (SecretKind.consentCosts). */
export const consentCostsOf = (config: SecretConfig, run: ConsentRun): string[] => entryOf(config.kind).consentCosts?.(config, run) ?? [];

/** What a rotation of this secret leaves unchecked in the running app (SecretKind.unchecked), or undefined. */
export const uncheckedOf = (config: SecretConfig): string | undefined => entryOf(config.kind).unchecked?.(config);

/** The kinds that have a one-time setup, for messages. */
export const kindsWithSetup = (): Kind[] => secretKinds.filter((entry) => entry.setup).map((entry) => entry.kind);

import type { JwtSecretConfig, Kind, SecretConfig, SecretConfigOf } from '../config/schema.js';
import type { Rotator } from './types.js';

/**
 * What the engine, the commands and the config need to know of a kind without loading its rotator. Rotators load
 * on first use, so `rotate --help` and `rotate status` never pay for pg, ioredis or stripe; everything here is
 * read from the config alone.
 */
interface KindEntry<C extends SecretConfig> {
  load(): Promise<Rotator<C>>;
  /** The env-file keys the secret writes; the first is its main value. */
  envKeys(config: C): string[];
  /** Process environment variables the secret reads credentials from (admin URLs): no child process sees them. */
  credentialEnvNames(config: C): string[];
  /** Its `alsoUpdate` keys hold bare copies of the main value, which the engine writes (the rotator writes the main key). */
  bareCopies?: true;
  /** The config as this run sees it, with the command-line options that override it (absent: unchanged). */
  withOverrides?(config: C, run: RunOverrides): C;
}

/** Command-line options that override a kind's config for one run. */
export interface RunOverrides {
  /** `--allow-unpersisted`: Redis's `allowUnpersisted`. */
  allowUnpersisted: boolean;
}

/** The JWT secret's grace-period key: where the old secret stays while tokens signed with it are still valid. */
export const jwtPreviousEnv = (config: JwtSecretConfig): string => config.previousEnv ?? `${config.env}_PREVIOUS`;

const adminUrlEnvOf = (config: { adminUrlEnv?: string | undefined }): string[] => (config.adminUrlEnv ? [config.adminUrlEnv] : []);
const none = (): string[] => [];

/** The registry: one entry per kind. */
const kinds: { [K in Kind]: KindEntry<SecretConfigOf<K>> } = {
  jwt: {
    load: async () => (await import('./jwt.js')).jwtRotator,
    envKeys: (config) => [config.env, jwtPreviousEnv(config), ...config.alsoUpdate],
    credentialEnvNames: none,
    bareCopies: true,
  },
  'exchange-key': {
    load: async () => (await import('./exchange-key/index.js')).exchangeKeyRotator,
    envKeys: (config) => [config.env, ...config.alsoUpdate],
    credentialEnvNames: none,
    bareCopies: true,
  },
  postgres: {
    load: async () => (await import('./postgres/index.js')).postgresRotator,
    envKeys: (config) => [config.env, ...config.alsoUpdate],
    credentialEnvNames: adminUrlEnvOf,
  },
  redis: {
    load: async () => (await import('./redis/index.js')).redisRotator,
    envKeys: (config) => [config.env, ...config.alsoUpdate],
    credentialEnvNames: adminUrlEnvOf,
    withOverrides: (config, run) => (run.allowUnpersisted ? { ...config, allowUnpersisted: true } : config),
  },
  stripe: {
    load: async () => (await import('./stripe/index.js')).stripeRotator,
    envKeys: (config) => [config.env.secretKey, config.env.publishableKey, config.env.webhookSecret],
    credentialEnvNames: none,
  },
};

const entryOf = <C extends SecretConfig>(kind: C['kind']) => kinds[kind] as unknown as KindEntry<C>;

export async function loadRotator<C extends SecretConfig>(kind: C['kind']): Promise<Rotator<C>> {
  return entryOf<C>(kind).load();
}

/** Env keys a secret writes, without loading its rotator (status and plans need only this). */
export const envKeysOf = (config: SecretConfig): string[] => entryOf(config.kind).envKeys(config);

/** Process environment variables that hold credentials of this secret (never handed to a child process). */
export const credentialEnvNamesOf = (config: SecretConfig): string[] => entryOf(config.kind).credentialEnvNames(config);

/** A secret's config with this run's command-line overrides applied by its kind. */
export const withRunOverrides = (config: SecretConfig, run: RunOverrides): SecretConfig =>
  entryOf(config.kind).withOverrides?.(config, run) ?? config;

/** Whether the engine writes this secret's `alsoUpdate` keys as bare copies of its main value. */
export const writesBareCopies = (config: SecretConfig): boolean => entryOf(config.kind).bareCopies === true;

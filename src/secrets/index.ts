import type { Kind, SecretConfig } from '../config/schema.js';
import type { Rotator } from './types.js';

/**
 * The registry. Rotators load on first use, so `rotate --help` and `rotate status` never pay for pg, ioredis or
 * stripe.
 */
const loaders: Record<Kind, () => Promise<Rotator<any>>> = {
  jwt: async () => (await import('./jwt.js')).jwtRotator,
  'exchange-key': async () => (await import('./exchange-key/index.js')).exchangeKeyRotator,
  postgres: async () => (await import('./postgres/index.js')).postgresRotator,
  redis: async () => (await import('./redis/index.js')).redisRotator,
  stripe: async () => (await import('./stripe/index.js')).stripeRotator,
};

export async function loadRotator<C extends SecretConfig>(kind: C['kind']): Promise<Rotator<C>> {
  return (await loaders[kind]()) as Rotator<C>;
}

/** Env keys a secret writes, without loading its rotator (status and plans need only this). */
export function envKeysOf(config: SecretConfig): string[] {
  switch (config.kind) {
    case 'jwt':
      return [config.env, config.previousEnv ?? `${config.env}_PREVIOUS`];
    case 'exchange-key':
      return [config.env];
    case 'postgres':
    case 'redis':
      return [config.env, ...config.alsoUpdate];
    case 'stripe':
      return [config.env.secretKey, config.env.publishableKey, config.env.webhookSecret];
  }
}

import * as z from 'zod/mini';
import { envName, intervalDays, secretFields } from '../../config/fields.js';
import type { SecretKind } from '../types.js';
import { redisFactSentences } from './facts.js';

export const redisSecretSchema = z.strictObject({
  kind: z.literal('redis'),
  env: z._default(envName, 'REDIS_URL'),
  ...secretFields,
  intervalDays: intervalDays(90),
  strategy: z._default(z.enum(['acl', 'requirepass']), 'acl'),
  alsoUpdate: z._default(z.array(envName), []),
  /** Name of an environment variable holding an admin URL for ACL changes (defaults to the app's own URL). */
  adminUrlEnv: z.optional(envName),
  /** Rotate even when the server cannot persist the new password (it would be lost on a Redis restart). */
  allowUnpersisted: z._default(z.boolean(), false),
});

export type RedisSecretConfig = z.output<typeof redisSecretSchema>;

export const redisKind: SecretKind<RedisSecretConfig> = {
  kind: 'redis',
  ids: ['redis'],
  // The platform's other keys that hold the Redis password or a URL with it.
  builtIn: { id: 'redis', config: { alsoUpdate: ['REDIS_PASSWORD', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'] } },
  starter: {
    description: 'password of the Redis user in REDIS_URL (ACL: old and new overlap until the app is verified)',
    env: 'REDIS_URL',
    alsoUpdate: ['REDIS_PASSWORD', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'],
    intervalDays: 90,
    services: ['backend'],
    strategy: 'acl',
  },
  load: async () => (await import('./index.js')).redisRotator,
  envKeys: (config) => [config.env, ...config.alsoUpdate],
  credentialEnvNames: (config) => (config.adminUrlEnv ? [config.adminUrlEnv] : []),
  withOverrides: (config, run) => (run.allowUnpersisted ? { ...config, allowUnpersisted: true } : config),
  describeFacts: redisFactSentences,
};

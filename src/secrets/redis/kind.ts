import * as z from 'zod/mini';
import { envName, intervalDays, secretFields } from '../../config/fields.js';
import { counted, countOf, type Facts, type FactsMoment, flagOf, listed, textOf, textsOf } from '../facts.js';
import type { SecretKind } from '../types.js';

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

// The Redis secret's facts: the user, strategy, admin path and persistence its preflight finds, the variables its
// rotation rewrites, and the sentences a person reads for them. `redisFacts` (index.ts) reads back what steps need.

/** What the preflight and the generation record. */
export type RedisFactsRecord = {
  strategy: string;
  user?: string;
  /** `user app at host:6379 db 0` (describeTarget), never a password. */
  target?: string;
  /** Keys the app's user saw before the change: the new password must see as many. */
  keysBefore?: number;
  updatedVars?: string[];
  /** `NAME: why it is left as it is`. */
  skippedVars?: string[];
  adminVia?: 'admin-url' | 'app-url';
  passwordsBefore?: number;
  persistence?: 'aclfile' | 'config-file' | 'none';
  restoring?: boolean;
};

const PERSISTENCE: Record<string, string> = {
  aclfile: 'the new password is saved to the ACL file (ACL SAVE), so a Redis restart keeps it',
  'config-file': "the new password is saved to the server's config file (CONFIG REWRITE), so a Redis restart keeps it",
  none: 'the server has neither a config file nor an ACL file: a Redis restart would bring the old password back',
};

export function redisFactSentences(facts: Facts, moment: FactsMoment): string[] {
  const out: string[] = [];
  const user = textOf(facts.user);
  // The target names the user too (`user app at redis:6379 db 0`): the sentence names it once.
  const target = textOf(facts.target)?.replace(/^user \S+ at /, '');
  if (user) out.push(`the app authenticates as user ${user}${target ? ` at ${target}` : ''}`);
  const strategy = textOf(facts.strategy);
  if (moment === 'plan' && strategy === 'acl') {
    out.push('strategy acl: the user gets a second password; the old one is removed once the new one is verified');
  } else if (moment === 'plan' && strategy === 'requirepass') {
    out.push("strategy requirepass: the server's one password changes");
  }
  const via = textOf(facts.adminVia);
  if (via)
    out.push(
      via === 'admin-url' ? 'the password is changed through the admin URL' : "the app's own user changes its password (no admin URL)",
    );
  const passwords = countOf(facts.passwordsBefore);
  if (passwords !== undefined && user) out.push(`user ${user} has ${counted(passwords, 'password')} now`);
  const keys = countOf(facts.keysBefore);
  if (keys !== undefined && moment === 'plan') out.push(`the user sees ${counted(keys, 'key')} now; the new password must see as many`);
  if (flagOf(facts.restoring)) out.push('the previous password is put back');
  const updated = textsOf(facts.updatedVars);
  if (updated.length) out.push(`${listed(updated)} ${moment === 'plan' ? 'get' : 'got'} the new password`);
  for (const skipped of textsOf(facts.skippedVars)) {
    const at = skipped.indexOf(': ');
    out.push(at > 0 ? `${skipped.slice(0, at)} is left as it is (${skipped.slice(at + 2)})` : `${skipped} is left as it is`);
  }
  const persistence = textOf(facts.persistence);
  if (persistence && PERSISTENCE[persistence]) out.push(PERSISTENCE[persistence]);
  return out;
}

export const redisKind: SecretKind<RedisSecretConfig> = {
  kind: 'redis',
  descriptions: {
    allowUnpersisted: 'Rotate even when the server cannot persist the new password (it would be lost on a Redis restart).',
  },
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
  consentCosts: (config, run) => [
    config.strategy === 'acl'
      ? 'old and new Redis passwords both work until the new one is verified: no login is refused'
      : `new Redis connections with the old password are refused from the change ${run.until}; open connections stay`,
  ],
};

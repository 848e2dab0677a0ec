import * as z from 'zod/mini';
import { envName, httpUrl, intervalDays, secretFields } from '../../config/fields.js';
import { isInsecureVerifyUrl } from '../../config/private-host.js';
import { counted, countOf, type Facts, type FactsMoment, flagOf, textOf } from '../facts.js';
import type { SecretKind } from '../types.js';

export const jwtSecretSchema = z
  .strictObject({
    kind: z.literal('jwt'),
    env: z._default(envName, 'JWT_SECRET'),
    /** Where the old value lives during the grace period. */
    previousEnv: z.optional(envName),
    /** Other keys holding the same secret as a bare copy: written with the same new value. */
    alsoUpdate: z._default(z.array(envName), []),
    ...secretFields,
    intervalDays: intervalDays(90),
    verify: z.optional(
      z.strictObject({
        url: httpUrl,
        claims: z._default(z.record(z.string(), z.unknown()), { id: '1' }),
        expiresInSeconds: z._default(z.int().check(z.positive(), z.lte(3600)), 120),
      }),
    ),
    /** Lets `verify.url` be plain http to a public host (the signed token then crosses the network in clear text). */
    allowInsecureVerify: z._default(z.boolean(), false),
  })
  .check(
    z.refine((secret) => secret.allowInsecureVerify || !secret.verify || !isInsecureVerifyUrl(secret.verify.url), {
      message:
        'plain http to a host that is not loopback or a private address would send a token signed with the live secret in clear text: use https, or set "allowInsecureVerify": true',
      path: ['verify', 'url'],
    }),
  );

export type JwtSecretConfig = z.output<typeof jwtSecretSchema>;

/** The grace-period key: where the old secret stays while tokens signed with it are still valid. */
export const jwtPreviousEnv = (config: JwtSecretConfig): string => config.previousEnv ?? `${config.env}_PREVIOUS`;

// The JWT secret's facts: what its preflight and generation record, and the sentences a person reads for them.

/** What the preflight records (the plan). */
export interface JwtPlanFacts {
  graceHours: number;
  /** Where the app is asked to accept a token; null without `verify.url`. */
  verifyUrl: string | null;
}

/** What the generation records (the result and the history). */
export interface JwtRotationFacts {
  /** The new secret's length in characters (base64url). */
  characters: number;
  /** How many random bytes it encodes; absent when a rollback puts the previous secret back. */
  randomBytes?: number;
  /** The old secret stays valid in the previous-secret key for the grace period. */
  grace: boolean;
  restored?: true;
}

export function jwtFactSentences(facts: Facts, moment: FactsMoment): string[] {
  const out: string[] = [];
  const graceHours = countOf(facts.graceHours);
  if (graceHours !== undefined) {
    out.push(
      graceHours > 0
        ? `grace period of ${counted(graceHours, 'hour')}: tokens signed with the old secret stay valid that long after the new one is verified`
        : 'no grace period: tokens signed with the old secret are refused as soon as the new one is verified',
    );
  }
  if ('verifyUrl' in facts) {
    const url = textOf(facts.verifyUrl);
    out.push(url ? `the app is asked to accept a token at ${url}` : 'no verify.url: only the env file is checked, not the app');
  }
  const restored = flagOf(facts.restored) === true;
  // `bytes` is what records before `characters` called the same length.
  const characters = countOf(facts.characters) ?? countOf(facts.bytes);
  const randomBytes = countOf(facts.randomBytes);
  if (characters !== undefined) {
    out.push(
      restored
        ? `the previous secret is put back (${counted(characters, 'character')})`
        : `new secret: ${counted(characters, 'character')}${randomBytes ? ` (${randomBytes} random bytes)` : ''}`,
    );
  }
  const grace = flagOf(facts.grace);
  if (grace !== undefined && moment === 'done') {
    const old = restored ? 'the secret it replaced' : 'the old secret';
    out.push(
      grace ? `${old} stays valid until the grace period ends; \`rotate --due\` then retires it` : `${old} is retired now; no grace period`,
    );
  }
  return out;
}

export const jwtKind: SecretKind<JwtSecretConfig> = {
  kind: 'jwt',
  descriptions: {
    previousEnv: 'Env-file key that holds the old secret during the grace period (default <env>_PREVIOUS).',
    allowInsecureVerify: 'Allow verify.url over plain http to a public host (the test token then crosses the network in clear text).',
    'verify.claims': 'Claims of the test token signed with the new secret (default {"id": "1"}).',
    'verify.expiresInSeconds': 'Lifetime of the test token (default 120).',
  },
  ids: ['jwt'],
  builtIn: { id: 'jwt', config: {} },
  // Some platform versions sign refresh tokens with a secret of their own; it restarts what the jwt secret restarts.
  builtInWhenPresent: {
    key: 'JWT_REFRESH_SECRET',
    id: 'jwt-refresh',
    config: (builtIns) => ({ env: 'JWT_REFRESH_SECRET', ...(builtIns.jwt ? { services: builtIns.jwt.services } : {}) }),
  },
  starter: {
    description: 'HS256 signing secret; graceHours > 0 keeps the old one in JWT_SECRET_PREVIOUS for that long',
    env: 'JWT_SECRET',
    intervalDays: 90,
    services: ['backend'],
    graceHours: 0,
    verify: { url: 'http://localhost:8000/api/auth/me', claims: { id: '1' } },
  },
  // With a grace period the old secret stays under <env>_PREVIOUS, removed when it is retired.
  writes: (config, run) => ({ stage: false, onRetire: config.graceHours > 0 && !run.emergency }),
  load: async () => (await import('./index.js')).jwtRotator,
  envKeys: (config) => [config.env, jwtPreviousEnv(config), ...config.alsoUpdate],
  // Without a grace period the old secret is never kept: the previous-secret key is not written.
  keysWritten: (config) =>
    jwtKind.envKeys(config).filter((k) => config.graceHours > 0 || (!k.endsWith('_PREVIOUS') && k !== config.previousEnv)),
  credentialEnvNames: () => [],
  bareCopies: true,
  describeFacts: jwtFactSentences,
  consentCosts: (config) => [
    config.graceHours > 0
      ? `tokens signed with the old secret stay valid for ${counted(config.graceHours, 'hour')} (grace): nobody is logged out`
      : 'every signed-in user is logged out: tokens signed with the old secret are refused once the new one is verified (no grace period)',
  ],
  unchecked: (config) =>
    config.verify
      ? undefined
      : 'no verify.url: nothing asked the app to accept a token signed with the secret in the env file, or to refuse the one before it; only the env file was checked',
};

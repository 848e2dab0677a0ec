import * as z from 'zod/mini';
import { envName, httpUrl, intervalDays, secretFields } from '../../config/fields.js';
import { counted, countOf, type Facts, type FactsMoment, flagOf, textOf } from '../facts.js';
import type { SecretKind } from '../types.js';
import { defaultLength, type RandomAlphabet } from './generate.js';

/** Keys that encrypt stored data: a new random value would leave every stored row unreadable. */
const ENCRYPTING_KEYS = new Set(['WALLET_ENCRYPTION_KEY']);

export const randomSecretSchema = z
  .strictObject({
    kind: z.literal('random'),
    env: envName,
    /** Other keys holding the same secret as a bare copy: written with the same new value. */
    alsoUpdate: z._default(z.array(envName), []),
    /** Characters of the new value; default 32 random bytes in the alphabet (43 base64url or alphanumeric, 64 hex). */
    length: z.optional(z.int().check(z.gte(16), z.lte(4096))),
    alphabet: z._default(z.enum(['base64url', 'hex', 'alphanumeric']), 'base64url'),
    ...secretFields,
    intervalDays: intervalDays(90),
    /** An HTTP GET that must answer 2xx after the restart (a redirect is a failed check). */
    verify: z.optional(z.strictObject({ url: httpUrl })),
  })
  .check(
    z.refine((secret) => !ENCRYPTING_KEYS.has(secret.env), {
      message:
        'WALLET_ENCRYPTION_KEY encrypts stored data: a new random value would make every stored wallet unreadable. If the platform encrypts wallets with Fernet (the same PBKDF2 derivation), use "kind": "exchange-key" with its tables, which re-encrypts them; otherwise leave this key out of rotate',
      path: ['env'],
    }),
  );

export type RandomSecretConfig = z.output<typeof randomSecretSchema>;

export const randomLength = (config: RandomSecretConfig): number => config.length ?? defaultLength(config.alphabet);

/** What the preflight records (the plan). */
export interface RandomPlanFacts {
  /** The URL that must answer 2xx after the restart; null without `verify.url`. */
  verifyUrl: string | null;
}

/** What the generation records (the result and the history). */
export interface RandomRotationFacts {
  characters: number;
  alphabet: RandomAlphabet;
  restored?: true;
}

export function randomFactSentences(facts: Facts, _moment: FactsMoment): string[] {
  const out: string[] = [];
  if ('verifyUrl' in facts) {
    const url = textOf(facts.verifyUrl);
    out.push(url ? `${url} must answer 2xx after the restart` : "no verify.url: only the env file and the services' health are checked");
  }
  const characters = countOf(facts.characters);
  if (characters !== undefined) {
    out.push(
      flagOf(facts.restored) === true
        ? `the previous value is put back (${counted(characters, 'character')})`
        : `new value: ${counted(characters, 'character')} of ${textOf(facts.alphabet) ?? 'base64url'}`,
    );
  }
  return out;
}

export const randomKind: SecretKind<RandomSecretConfig> = {
  kind: 'random',
  descriptions: {
    env: 'Env-file key that holds the value.',
    alsoUpdate: 'Other env-file keys written with the same new value.',
    length: 'Characters of the new value (16 to 4096; default 32 random bytes: 43 base64url or alphanumeric, 64 hex).',
    alphabet: 'Characters of the new value: "base64url" (default), "hex" or "alphanumeric".',
    verify: 'A check after the restart.',
    'verify.url': 'An HTTP GET that must answer 2xx after the restart (redirects are a failed check).',
  },
  ids: [],
  starter: {
    description: 'a random value the services only read (an API token between services, a session secret)',
    env: 'SESSION_SECRET',
    alphabet: 'base64url',
    intervalDays: 90,
    services: ['backend'],
    verify: { url: 'http://localhost:8000/api/health' },
  },
  load: async () => (await import('./index.js')).randomRotator,
  envKeys: (config) => [config.env, ...config.alsoUpdate],
  credentialEnvNames: () => [],
  bareCopies: true,
  describeFacts: randomFactSentences,
  unchecked: (config) =>
    config.verify
      ? 'nothing asked the app to use the new value: only that verify.url answered 2xx after the restart'
      : "no verify.url: nothing asked the app to use the new value; only the env file and the services' health were checked",
};

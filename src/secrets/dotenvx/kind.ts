import * as z from 'zod/mini';
import { envName, intervalDays, secretFields } from '../../config/fields.js';
import { counted, countOf, type Facts, type FactsMoment, flagOf, textOf } from '../facts.js';
import type { SecretKind } from '../types.js';

export const dotenvxSecretSchema = z.strictObject({
  kind: z.literal('dotenvx'),
  /** The public key line of the encrypted env file whose keypair rotates: DOTENV_PUBLIC_KEY, DOTENV_PUBLIC_KEY_<ENV>. */
  env: z._default(envName, 'DOTENV_PUBLIC_KEY'),
  ...secretFields,
  intervalDays: intervalDays(365),
});

export type DotenvxSecretConfig = z.output<typeof dotenvxSecretSchema>;

/** The private key's name in `.env.keys`: the public key's, PUBLIC -> PRIVATE. */
export const privateKeyNameOf = (config: DotenvxSecretConfig): string => config.env.replace('DOTENV_PUBLIC_KEY', 'DOTENV_PRIVATE_KEY');

/** What the preflight records (the plan). */
export interface DotenvxPlanFacts {
  /** The env file whose keypair rotates, and the `.env.keys` that holds its private key. */
  file: string;
  keysFile: string;
  /** How many encrypted values are encrypted again. */
  values: number;
}

/** What the generation records: the public keys (public, as in the file), never a private key. */
export interface DotenvxRotationFacts {
  oldPublicKey: string;
  newPublicKey: string;
  restored?: true;
}

export function dotenvxFactSentences(facts: Facts, moment: FactsMoment): string[] {
  const out: string[] = [];
  const file = textOf(facts.file);
  const keysFile = textOf(facts.keysFile);
  if (file && keysFile) {
    out.push(
      `${counted(countOf(facts.values) ?? 0, 'encrypted value')} of ${file} encrypted again to a new keypair; its private key goes to ${keysFile} first, the old one leaves it last`,
    );
  }
  const next = textOf(facts.newPublicKey);
  if (next && moment !== 'plan') {
    out.push(
      flagOf(facts.restored) === true
        ? `the previous keypair is put back (public key ${next.slice(0, 10)}…)`
        : `new public key ${next.slice(0, 10)}…`,
    );
  }
  return out;
}

export const dotenvxKind: SecretKind<DotenvxSecretConfig> = {
  kind: 'dotenvx',
  descriptions: {
    env: 'The public key line of the dotenvx-encrypted env file whose keypair rotates (DOTENV_PUBLIC_KEY, or DOTENV_PUBLIC_KEY_<ENV> for .env.<env>); its private key must be in the .env.keys beside the file.',
  },
  ids: ['dotenvx'],
  starter: {
    description: 'the keypair of a dotenvx-encrypted .env: every value encrypted again, the new private key in .env.keys',
    env: 'DOTENV_PUBLIC_KEY',
    intervalDays: 365,
    services: ['backend'],
  },
  // No stage: the new private key goes to .env.keys in apply, and the old one leaves it in retire.
  writes: () => ({ stage: false, onRetire: false }),
  load: async () => (await import('./index.js')).dotenvxRotator,
  envKeys: (config) => [config.env],
  credentialEnvNames: (config) => [privateKeyNameOf(config)],
  describeFacts: dotenvxFactSentences,
};

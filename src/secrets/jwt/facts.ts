// The JWT secret's facts: what its preflight and generation record, and the sentences a person reads for them.
import { counted, countOf, type Facts, type FactsMoment, flagOf, textOf } from '../facts.js';

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
      grace ? `${old} stays valid until the grace period ends; \`rotate --due\` then retires it` : `${old} is refused now; no grace period`,
    );
  }
  return out;
}

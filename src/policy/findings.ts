// `rotate check`'s findings (CONTRACT.md, "Environments, policy, leaks"): the rotation guide's rules about where a
// value is kept and how strong it is, each with a stable id, a severity, where it is and the fix. Never a value.

export interface Finding {
  /** Stable: scripts and CI match on it (docs/policy.md lists them). */
  id: FindingId;
  severity: 'error' | 'warning';
  secret?: string;
  /** A file, a file and key (`.env: JWT_SECRET`), a config path. */
  where: string;
  message: string;
  fix: string;
}

export const FINDING_IDS = [
  'env-file-tracked',
  'env-file-not-ignored',
  'env-file-writable',
  'env-file-readable',
  'store-readable',
  'dotenvx-plaintext',
  'value-reused',
  'value-shared-across-environments',
  'value-too-short',
  'value-low-entropy',
  'value-placeholder',
  'secret-overdue',
  'secret-never-rotated',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

/** Values people leave in place of a secret. Compared in lower case, whole or as the value of a URL's password. */
const PLACEHOLDERS = new Set([
  'changeme',
  'change-me',
  'change_me',
  'secret',
  'password',
  'passw0rd',
  'example',
  'default',
  'test',
  'todo',
  'xxx',
  'admin',
  'your-secret-key',
  'your_secret_key',
  'supersecret',
  'super-secret',
  'mysecret',
  'jwt-secret',
  'jwt_secret',
  'secret-key',
  'secretkey',
  'dev',
  'development',
  'insecure',
]);

/** Shannon entropy of the value's characters, in bits for the whole value (a floor for random text). */
export function entropyBits(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * value.length;
}

/** What the strength rules judge of a secret: the whole value, or a URL's password. */
export interface JudgedValue {
  secret: string;
  kind: string;
  key: string;
  where: string;
  value: string;
  /** The values of the `.env.example` beside the env file, if any: placeholders by definition. */
  exampleValues: ReadonlySet<string>;
}

/** The shortest value each kind accepts (the guide: 32 characters for a JWT secret; the exchange key is a PBKDF2 password). */
const MIN_LENGTH: Record<string, number> = { jwt: 32, 'exchange-key': 32, postgres: 16, redis: 16 };
/** Bits of character entropy below which a value is guessable whatever its length. */
const MIN_BITS = 96;

const isPlaceholder = (value: string, examples: ReadonlySet<string>): boolean => {
  const lower = value.toLowerCase().trim();
  return PLACEHOLDERS.has(lower) || /^(.)\1*$/.test(lower) || /^(your|my|some|replace|insert)[-_ ]/.test(lower) || examples.has(value);
};

/** Too short, low in entropy, or a placeholder: one finding at most per value, the worst first. */
export function strengthFinding(v: JudgedValue): Finding | undefined {
  const base = { secret: v.secret, where: v.where };
  const rotate = `rotate ${v.secret} --yes (it writes a new random value)`;
  if (isPlaceholder(v.value, v.exampleValues)) {
    const example = v.exampleValues.has(v.value) ? ' (the value of .env.example beside it)' : '';
    return {
      id: 'value-placeholder',
      severity: 'error',
      ...base,
      message: `${v.key} holds a placeholder${example}, not a secret`,
      fix: rotate,
    };
  }
  const min = MIN_LENGTH[v.kind];
  if (min !== undefined && v.value.length < min) {
    return {
      id: 'value-too-short',
      severity: 'error',
      ...base,
      message: `${v.key} is ${v.value.length} characters long; a ${v.kind} secret needs at least ${min}`,
      fix: rotate,
    };
  }
  if (min !== undefined && entropyBits(v.value) < MIN_BITS) {
    return {
      id: 'value-low-entropy',
      severity: 'error',
      ...base,
      message: `${v.key} has about ${Math.floor(entropyBits(v.value))} bits of character entropy (under ${MIN_BITS}): a pattern or a word, not random`,
      fix: rotate,
    };
  }
  return undefined;
}

/** The password of a URL, decoded; undefined for other text. */
export function urlPassword(value: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  try {
    const password = new URL(value).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

/** Errors first, then warnings; in the order found within each. */
export const sortFindings = (findings: Finding[]): Finding[] =>
  [...findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));

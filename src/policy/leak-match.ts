// Which managed secrets a scanner's findings hold. Both sides become keyed fingerprints (HMAC-SHA256 under a key
// drawn for this run only, never stored) and only fingerprints are compared; a value of 16 characters or more is
// also found inside a longer match (a whole `KEY=value` line, a URL). Once this returns, the findings' raw texts are
// dropped: the plan, the reason of the run, the output and the history name files, lines, commits and rules only.
import { createHmac } from 'node:crypto';
import type { LeakFinding } from './leak-report.js';

/** A managed secret's current values, by the keys it writes (its env, alsoUpdate copies, a previous value). */
export interface ManagedValues {
  id: string;
  values: string[];
}

/** A finding as it may be shown: where, which rule, and which managed secrets it holds (ids only). */
export interface LeakMatch {
  scanner: LeakFinding['scanner'];
  rule: string;
  file: string | null;
  line: number | null;
  commit: string | null;
  secrets: string[];
  /** The report holds no text of this finding to match (a scanner's redaction or masking): run it without. */
  redacted?: true;
}

/** Shorter values are not matched: a leak report is full of short strings that would match by chance. */
const MIN_LENGTH = 8;
/** Found inside a longer match only from this length on. */
const MIN_CONTAINED = 16;

const ASSIGNMENT = /^\s*(?:export\s+)?["']?[A-Za-z_][A-Za-z0-9_.-]*["']?\s*[:=]\s*(.*?)\s*[;,]?\s*$/s;
const unquote = (text: string) => text.replace(/^(["'`])(.*)\1$/s, '$2');

/** The password of a URL (`postgresql://app:pw@db/app`), decoded; none for other text. */
function urlPassword(text: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return [];
  try {
    const password = new URL(text).password;
    return password ? [password, decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}

/** The strings a matched text may be the secret as: itself, the value of a `KEY=value` line, a URL's password. */
export function candidatesOf(text: string): string[] {
  const out = new Set<string>([text, text.trim()]);
  const assigned = ASSIGNMENT.exec(text)?.[1];
  if (assigned) out.add(unquote(assigned));
  for (const value of [...out]) for (const password of urlPassword(value)) out.add(password);
  return [...out].filter((c) => c.length >= MIN_LENGTH);
}

/** The fingerprints each managed secret answers to: its values and, for URLs, their passwords. */
function identitiesOf(secret: ManagedValues): string[] {
  return [...new Set(secret.values.flatMap((v) => [v, ...urlPassword(v)]))].filter((v) => v.length >= MIN_LENGTH);
}

/**
 * Each finding with the ids of the managed secrets it holds (none: unmanaged). `key` is this run's fingerprint key
 * (32 random bytes from the caller's deps).
 */
export function matchFindings(findings: readonly LeakFinding[], managed: readonly ManagedValues[], key: Buffer): LeakMatch[] {
  const mac = (text: string) => createHmac('sha256', key).update(text).digest('base64');
  const owners = new Map<string, Set<string>>();
  const contained: { id: string; value: string }[] = [];
  for (const secret of managed) {
    for (const value of identitiesOf(secret)) {
      const fp = mac(value);
      owners.set(fp, (owners.get(fp) ?? new Set()).add(secret.id));
      if (value.length >= MIN_CONTAINED) contained.push({ id: secret.id, value });
    }
  }
  return findings.map((finding) => {
    const ids = new Set<string>();
    for (const text of finding.texts) {
      for (const candidate of candidatesOf(text)) for (const id of owners.get(mac(candidate)) ?? []) ids.add(id);
      for (const { id, value } of contained) if (text.length > value.length && text.includes(value)) ids.add(id);
    }
    const { texts: _dropped, ...where } = finding;
    return { ...where, secrets: [...ids].sort(), ...(finding.texts.length === 0 ? { redacted: true as const } : {}) };
  });
}

/** The secrets to rotate: the matched ones and, transitively, the `related` ones they declare, in config order. */
export function withRelated(
  matched: readonly string[],
  related: (id: string) => readonly string[],
  order: readonly string[],
): { rotate: string[]; relatedOnly: string[] } {
  const all = new Set(matched);
  const queue = [...matched];
  while (queue.length) {
    for (const other of related(queue.shift()!)) {
      if (all.has(other)) continue;
      all.add(other);
      queue.push(other);
    }
  }
  const rotate = order.filter((id) => all.has(id));
  return { rotate, relatedOnly: rotate.filter((id) => !matched.includes(id)) };
}

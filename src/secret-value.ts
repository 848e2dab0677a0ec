import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Every secret value that this process has seen. Output paths pass text through `redact()`, so a value that
 * slips into a message by mistake is still never printed.
 */
const known = new Set<string>();

/** A secret that prints as `[redacted]` everywhere; only `reveal()` hands out the value. */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    // Short values (a one-letter test password) would redact ordinary words; 6+ chars keeps output readable.
    if (value.length >= 6) known.add(value);
  }

  reveal(): string {
    return this.#value;
  }

  equals(other: SecretValue | undefined): boolean {
    return other !== undefined && other.#value === this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Registers a value that is not wrapped (a password inside a URL, say) so that output never shows it. */
export function markSecret(value: string): void {
  if (value.length >= 6) known.add(value);
}

/** Replaces every known secret value in `text` (and its URL-encoded form) with `[redacted]`. */
export function redact(text: string): string {
  if (known.size === 0) return text;
  let out = text;
  for (const value of known) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
    const encoded = encodeURIComponent(value);
    if (encoded !== value && out.includes(encoded)) out = out.split(encoded).join(REDACTED);
  }
  return out;
}

/**
 * Text a person typed (`--reason`) before it is stored or posted: every known secret value and each of `values`
 * (the secret's current and new values, whatever their length above three characters) becomes `[redacted]`.
 */
export function redactTyped(text: string, values: (string | undefined)[]): string {
  let out = text;
  for (const value of [...values].sort((a, b) => (b?.length ?? 0) - (a?.length ?? 0))) {
    if (value && value.length >= 4 && out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return redact(out);
}

import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Every secret value that this process has seen, with the forms it can take in text: as is, URL-encoded, base64
 * (padded and not), base64url and hex (lower and upper case). A Kubernetes Secret holds its values in base64, and an
 * API error (an admission webhook's message) can quote them so. Output paths pass text through `redact()`, so a value
 * that slips into a message by mistake is still never printed. Longest forms are replaced first.
 */
const known = new Map<string, string[]>();

function remember(value: string): void {
  if (value.length < 6 || known.has(value)) return;
  const bytes = Buffer.from(value, 'utf8');
  const base64 = bytes.toString('base64');
  const hex = bytes.toString('hex');
  const forms = [value, encodeURIComponent(value), base64, base64.replace(/=+$/, ''), bytes.toString('base64url'), hex, hex.toUpperCase()];
  known.set(
    value,
    [...new Set(forms)].sort((a, b) => b.length - a.length),
  );
}

/**
 * Names that say their value is a credential (an env file's or a child's environment): values under them are
 * registered for redaction even when no secret of the config owns them.
 */
export const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|_KEY$|_URL$|CREDENTIAL|_PASS$|_DSN$|_AUTH$|^DSN$/i;

/** A secret that prints as `[redacted]` everywhere; only `reveal()` hands out the value. */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    // Short values (a one-letter test password) would redact ordinary words; 6+ chars keeps output readable.
    remember(value);
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
  remember(value);
}

/** Replaces every known secret value in `text`, in each of its forms (see `known`), with `[redacted]`. */
export function redact(text: string): string {
  if (known.size === 0) return text;
  let out = text;
  for (const forms of known.values()) {
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
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

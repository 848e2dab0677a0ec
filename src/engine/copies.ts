import type { SecretConfig } from '../config/schema.js';
import { type Check, check } from '../core-types.js';
import { envKeysOf, writesBareCopies } from '../secrets/index.js';
import type { Rotation } from '../secrets/types.js';
import { type Session, secretConfig } from './session.js';

/** Values shorter than this are too plain ("1", "true") to call a copy. */
const MIN_COPY_LENGTH = 8;

const alsoUpdateOf = (config: SecretConfig): string[] => ('alsoUpdate' in config ? config.alsoUpdate : []);

/**
 * Every copy of a secret's current value must be known before anything changes: another key of the target holding
 * it whole is either an unlisted copy (it would keep the dead value) or another secret reusing it. Each finding is a
 * failing check with a usage code: a real run stops with exit 2, a dry run shows it. Never names a value.
 */
export function copyChecks(session: Session, id: string, values: Readonly<Record<string, string>>): Check[] {
  const config = secretConfig(session, id);
  const [main] = envKeysOf(config);
  const current = main === undefined ? undefined : values[main];
  if (!main || !current || current.length < MIN_COPY_LENGTH) return [];
  const where = session.target.description;
  const configPath = session.configPath ?? 'the config';
  const own = new Set(envKeysOf(config));
  const owners = new Map<string, string>();
  for (const [other, c] of Object.entries(session.config.secrets)) {
    if (other !== id) for (const key of envKeysOf(c)) if (!owners.has(key)) owners.set(key, other);
  }
  const checks: Check[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (own.has(key) || value !== current) continue;
    const owner = owners.get(key);
    if (owner) {
      checks.push({
        ...check(
          'value-not-reused',
          `${key} does not reuse ${main}`,
          false,
          `${key} (secret ${owner}) holds the same value as ${main} (secret ${id}) in ${where}`,
          `give ${key} a value of its own (e.g. openssl rand -base64 48), restart the services that read it, then rotate again`,
        ),
        code: 'VALUE_REUSED',
      });
      continue;
    }
    const fix =
      writesBareCopies(config) || 'alsoUpdate' in config
        ? `add "${key}" to secrets.${id}.alsoUpdate in ${configPath} so it gets the new value too, or give it a value of its own`
        : `give ${key} a value of its own, or remove it`;
    checks.push({
      ...check('no-unlisted-copy', `no unlisted copy of ${main}`, false, `${key} in ${where} holds the current value of ${main} too`, fix),
      code: 'UNLISTED_COPY',
    });
  }
  if (writesBareCopies(config)) {
    for (const key of alsoUpdateOf(config)) {
      if (values[key] === undefined || values[key] === current) continue;
      checks.push({
        ...check(
          'copy-matches',
          `${key} holds the same value as ${main}`,
          false,
          `${key} (secrets.${id}.alsoUpdate) holds another value than ${main} in ${where}`,
          `remove ${key} from secrets.${id}.alsoUpdate, or make it hold the same value`,
        ),
        code: 'ALSO_UPDATE_MISMATCH',
      });
    }
  }
  return checks;
}

/** A kind with `bareCopies` (jwt, exchange-key): each `alsoUpdate` key in the target gets the main key's new value (absent: skipped). */
export function withBareCopies(
  config: SecretConfig,
  values: Readonly<Record<string, string>>,
  rotation: Rotation,
  warn: (message: string) => void,
): Rotation {
  if (!writesBareCopies(config)) return rotation;
  const [main] = envKeysOf(config);
  const next = main === undefined ? undefined : rotation.env[main];
  if (!next) return rotation;
  const env = { ...rotation.env };
  for (const key of alsoUpdateOf(config)) {
    if (values[key] === undefined) warn(`${key} (alsoUpdate of ${main}) is not set; skipped`);
    else env[key] = next;
  }
  return { ...rotation, env };
}

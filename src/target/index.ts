import type { TargetConfig } from '../config/schema.js';
import type { Logger } from '../core-types.js';
import { timed, tracing } from '../trace.js';
import type { OpenTarget, Target } from './types.js';

/**
 * The targets by `target.type`: adding one is a module exporting `openTarget` (types.ts: `OpenTarget`), its config
 * schema in config/schema.ts, and one line here. Each loads on first use (the Kubernetes client only for a Secret).
 */
const TARGETS: { [T in TargetConfig['type']]: () => Promise<OpenTarget<Extract<TargetConfig, { type: T }>>> } = {
  envfile: async () => (await import('./envfile.js')).openTarget,
  kubernetes: async () => (await import('./kubernetes.js')).openTarget,
};

/** The env files an envfile target owns (resolved by config/load.ts); none for any other target. */
export function envFilesOf(target: TargetConfig): string[] {
  if (target.type !== 'envfile') return [];
  return typeof target.files === 'string' ? [target.files] : [...(target.files ?? [])];
}

/** The target a config names (its paths resolved by config/load.ts). */
export async function openTarget(
  target: TargetConfig,
  deps: { log: Logger; environment: Readonly<Record<string, string | undefined>>; configDir?: string },
): Promise<Target> {
  const open = (await TARGETS[target.type]()) as OpenTarget<TargetConfig>;
  return maybeTraced(await open(target, deps));
}

const maybeTraced = (target: Target): Target => (tracing() ? withTrace(target) : target);

const keyList = (keys: readonly string[]): string => (keys.length > 0 ? keys.join(', ') : 'no keys');

/** `--verbose`: each read and write of the target, with the keys it names (never a value) and its time. */
function withTrace(target: Target): Target {
  const where = target.description;
  return {
    description: where,
    read: (agreeOn) =>
      timed(
        `target: read ${where}`,
        () => target.read(agreeOn),
        (s) => `${Object.keys(s.values).length} keys`,
      ),
    preflight: (keys) => timed(`target: check ${where}`, () => target.preflight(keys)),
    backup: () => timed(`target: back up ${where}`, () => target.backup()),
    write: (changes, expected, about) =>
      timed(`target: write ${keyList(Object.keys(changes))} to ${where}`, () => target.write(changes, expected, about)),
    restore: (backup, keys) => timed(`target: restore ${keyList(keys)} in ${where} from its backup`, () => target.restore(backup, keys)),
    ...(target.places ? { places: () => timed(`target: read each place of ${where}`, () => target.places!()) } : {}),
    ...(target.delivery ? { delivery: target.delivery } : {}),
  };
}

import { resolve } from 'node:path';
import type { TargetConfig } from '../config/schema.js';
import type { Logger } from '../core-types.js';
import { timed, tracing } from '../trace.js';
import { openEnvFileTarget } from './envfile.js';
import type { Target } from './types.js';

/** The target a config names: its env files (resolved paths), or a Kubernetes Secret (loaded only when used). */
export async function openTarget(
  target: TargetConfig,
  envFiles: readonly string[],
  deps: { log: Logger; environment: Readonly<Record<string, string | undefined>>; configDir?: string },
): Promise<Target> {
  if (target.type === 'kubernetes') {
    const { openKubernetesTarget } = await import('./kubernetes.js');
    const secret = {
      namespace: target.namespace,
      secret: target.secret,
      ...(target.context ? { context: target.context } : {}),
      hasSource: Boolean(target.source),
    };
    const live = await openKubernetesTarget(secret, deps);
    if (!target.source) return maybeTraced(live);
    const [{ withSource }, { openSecretSource }] = await Promise.all([import('./kubernetes-source.js'), import('./secret-source.js')]);
    const file = resolve(deps.configDir ?? '.', target.source.file);
    return maybeTraced(withSource(live, openSecretSource(file, { namespace: target.namespace, name: target.secret }, deps)));
  }
  return maybeTraced(openEnvFileTarget(envFiles, { environment: deps.environment }));
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
    write: (changes, expected) =>
      timed(`target: write ${keyList(Object.keys(changes))} to ${where}`, () => target.write(changes, expected)),
    restore: (backup, keys) => timed(`target: restore ${keyList(keys)} in ${where} from its backup`, () => target.restore(backup, keys)),
    ...(target.places ? { places: () => timed(`target: read each place of ${where}`, () => target.places!()) } : {}),
  };
}

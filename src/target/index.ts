import type { TargetConfig } from '../config/schema.js';
import type { Logger } from '../core-types.js';
import { openEnvFileTarget } from './envfile.js';
import type { Target } from './types.js';

/** The target a config names: its env files (resolved paths), or a Kubernetes Secret (loaded only when used). */
export async function openTarget(target: TargetConfig, envFiles: readonly string[], deps: { log: Logger }): Promise<Target> {
  if (target.type === 'kubernetes') {
    const { openKubernetesTarget } = await import('./kubernetes.js');
    return openKubernetesTarget(
      { namespace: target.namespace, secret: target.secret, ...(target.context ? { context: target.context } : {}) },
      deps,
    );
  }
  return openEnvFileTarget(envFiles);
}

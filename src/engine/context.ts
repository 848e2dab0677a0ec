import { markSecret, SECRET_NAME } from '../secret-value.js';
import { envKeysOf } from '../secrets/index.js';
import type { RotatorContext } from '../secrets/types.js';
import type { SecretState } from '../store/types.js';
import type { TargetSnapshot } from '../target/types.js';
import { type Session, secretConfig } from './session.js';

/** The values of every key a configured secret owns, and of keys named like secrets, never reach the output. */
function markSecrets(session: Session, snapshot: TargetSnapshot): void {
  const owned = new Set(Object.values(session.config.secrets).flatMap(envKeysOf));
  for (const [key, value] of Object.entries(snapshot.values)) {
    if (owned.has(key) || SECRET_NAME.test(key)) markSecret(value);
  }
}

/** Builds a rotator's view of the world: its config, the target's values as read, the side effects it may use. */
export function buildContext(session: Session, id: string, state: SecretState | undefined, snapshot: TargetSnapshot): RotatorContext {
  markSecrets(session, snapshot);
  return {
    id,
    config: secretConfig(session, id),
    env: snapshot.values,
    location: session.target.description,
    files: session.target.files ?? [],
    configDir: session.configDir,
    emergency: session.options.emergency,
    unattended: session.options.unattended,
    lastFacts: state?.facts ?? state?.last?.facts ?? {},
    deps: session.deps,
  };
}

/** The same context after the target changed. */
export function withSnapshot(session: Session, ctx: RotatorContext, snapshot: TargetSnapshot): RotatorContext {
  markSecrets(session, snapshot);
  return { ...ctx, env: snapshot.values };
}

/** The keys whose current values every env file must agree on before a run over `ids` starts. */
export function keysOf(session: Session, ids: readonly string[]): string[] {
  return [...new Set(ids.flatMap((id) => envKeysOf(secretConfig(session, id))))];
}

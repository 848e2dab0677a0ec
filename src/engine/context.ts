import { readEnvFile } from '../envfile/file.js';
import { markSecret } from '../secret-value.js';
import { envKeysOf } from '../secrets/index.js';
import type { RotatorContext } from '../secrets/types.js';
import type { SecretState } from '../store/types.js';
import { type Session, secretConfig } from './session.js';

const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|_KEY$|_URL$|CREDENTIAL/i;

/** Builds a rotator's view of the world: its config, the env file as it is now, the side effects it may use. */
export async function buildContext(session: Session, id: string, state: SecretState | undefined): Promise<RotatorContext> {
  const snapshot = await readEnvFile(session.envFile);
  const config = secretConfig(session, id);
  // The values of every key a configured secret owns, and of keys named like secrets, never reach the output.
  const owned = new Set(Object.values(session.config.secrets).flatMap(envKeysOf));
  for (const [key, value] of Object.entries(snapshot.values)) {
    if (owned.has(key) || SECRET_NAME.test(key)) markSecret(value);
  }
  return {
    id,
    config,
    env: snapshot.values,
    envFile: session.envFile,
    configDir: session.configDir,
    emergency: session.options.emergency,
    unattended: session.options.unattended,
    lastFacts: state?.facts ?? state?.last?.facts ?? {},
    deps: session.deps,
  };
}

export async function reloadEnv(ctx: RotatorContext): Promise<RotatorContext> {
  const snapshot = await readEnvFile(ctx.envFile);
  return { ...ctx, env: snapshot.values };
}

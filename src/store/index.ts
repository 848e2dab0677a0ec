import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { RotateError } from '../errors.js';
import { tracing } from '../trace.js';
import { withEnvironment } from './environment.js';
import { FileStore } from './file.js';
import { withTrace } from './trace.js';
import type { LockHolder, Store } from './types.js';

/** The store the config names; under `--verbose`, each of its operations is traced. */
export async function openStore(
  config: Config,
  configDir: string,
  environment: Readonly<Record<string, string | undefined>>,
  holder: LockHolder,
  warn: (message: string) => void,
): Promise<Store> {
  const opened = await open(config, configDir, environment, holder, warn);
  const store = config.environment ? withEnvironment(opened, config.environment) : opened;
  return tracing() ? withTrace(store) : store;
}

async function open(
  config: Config,
  configDir: string,
  environment: Readonly<Record<string, string | undefined>>,
  holder: LockHolder,
  warn: (message: string) => void,
): Promise<Store> {
  const masterKey = environment.ROTATE_MASTER_KEY || undefined;
  if (config.store.type === 'file') {
    return new FileStore({ dir: resolve(configDir, config.store.dir), masterKey, holder, warn, keepBackups: config.store.keepBackups });
  }
  const url = environment[config.store.urlEnv];
  if (!url) {
    throw new RotateError('STORE_URL_MISSING', `store.urlEnv names ${config.store.urlEnv}, which is not set`, {
      hint: `export ${config.store.urlEnv}=postgresql://... before running rotate`,
    });
  }
  if (!masterKey) {
    throw new RotateError('MASTER_KEY_MISSING', 'the postgres store needs ROTATE_MASTER_KEY', {
      hint: 'every host that runs rotate must share one master key: export ROTATE_MASTER_KEY=$(openssl rand -base64 32)',
    });
  }
  const { PostgresStore } = await import('./postgres.js');
  return PostgresStore.connect({
    url,
    schema: config.store.schema,
    masterKey,
    warn,
    urlEnv: config.store.urlEnv,
    keepBackups: config.store.keepBackups,
    holder,
  });
}

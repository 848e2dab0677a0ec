import { access } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import type { RunOptions, Session } from '../engine/index.js';
import { usageError } from '../errors.js';
import { closest } from '../suggest.js';
import { assertConsentPossible } from '../terminal/confirm.js';
import type { GlobalOptions } from './options.js';

const DEFAULT_RUN: RunOptions = { restart: true, emergency: false, unattended: false, allowUnpersisted: false };

/** What a command needs of its session beyond the config: the run's options, and whether the env file must exist. */
export interface SessionNeeds extends Partial<RunOptions> {
  /** rotate, verify and status: a missing env file is exit 2 (a wrong folder must not pass as "nothing to do"). */
  envFile?: 'required';
  /** Secret ids named on the command line, checked (with a "did you mean") before anything else. */
  names?: { secrets: string[]; commands?: readonly string[] };
  /** A change that needs consent: `--yes`, or a terminal to ask on (exit 2 otherwise, before the store opens). */
  consent?: { yes: boolean; command: string };
}

/**
 * Checked before the store opens, so that a run in the wrong folder leaves nothing behind (no empty `.rotate/`).
 * A Kubernetes target reads no env file.
 */
async function assertEnvFilesExist(loaded: LoadedConfig): Promise<void> {
  const { target } = loaded.config;
  if (target.type !== 'envfile') return;
  for (const file of typeof target.files === 'string' ? [target.files] : (target.files ?? [])) {
    try {
      await access(file);
    } catch {
      throw usageError(
        'ENV_FILE_MISSING',
        `the env file ${file} does not exist; nothing was touched`,
        `run rotate in the folder of your .env, or point ${loaded.path ? `envFile in ${loaded.path}` : 'envFile in rotate.config.json'} or --env-file at it`,
      );
    }
  }
}

/**
 * Loads the config, opens the store and builds the side effects for one invocation. Loaded on first use, so that
 * `rotate --help` never pays for the config schema, the store or the engine.
 */
export async function openSession(options: GlobalOptions, needs: SessionNeeds = {}): Promise<Session> {
  if (options.verbose) (await import('../terminal/logger.js')).startTracing(process.env);
  const [{ loadConfig, withTargetDefaults }, { processDeps }, { openStore }, { credentialEnvNames }, { openTarget }] = await Promise.all([
    import('../config/load.js'),
    import('./process-deps.js'),
    import('../store/index.js'),
    import('../config/credential-env.js'),
    import('../target/index.js'),
  ]);
  const loaded = await loadConfig({ config: options.config, envFile: options.envFile, cwd: process.cwd() });
  if (needs.names) {
    // Checked first, against every secret the defaults may hold (some exist only when the target has their key: the
    // command checks the names again once the target is read).
    const possible = loaded.defaultSecrets ? withTargetDefaults(loaded.config) : loaded.config;
    resolveSecretIds({ config: possible, configPath: loaded.path }, needs.names.secrets, needs.names.commands);
  }
  if (needs.consent) assertConsentPossible(needs.consent.yes, needs.consent.command);
  if (needs.envFile === 'required') await assertEnvFilesExist(loaded);
  const { envFile: _envFile, names: _names, consent: _consent, ...run } = needs;
  const runOptions = { ...DEFAULT_RUN, ...run };
  // Every variable the config names as a credential (store URL, admin URLs, the secrets' own keys): no child sees it.
  const privateEnvNames = credentialEnvNames(loaded.config);
  // Kubernetes exec credential plugins too (loaded only when a Kubernetes target or service is used).
  if (usesKubernetes(loaded.config)) (await import('../kubernetes/client.js')).withholdFromKubePlugins(privateEnvNames);
  const { stopSignal, whileChanging, describeStop } = await import('./interrupt.js');
  const deps = processDeps({
    quiet: options.quiet,
    verbose: options.verbose,
    unattended: runOptions.unattended,
    privateEnvNames,
    stop: stopSignal,
    whileChanging,
    describeStop,
  });
  const target = await openTarget(loaded.config.target, { log: deps.log, environment: deps.environment, configDir: loaded.dir });
  const config = loaded.defaultSecrets ? withTargetDefaults(loaded.config, (await target.read()).values) : loaded.config;
  const store = await openStore(loaded.config, loaded.dir, deps.environment, { pid: deps.pid, host: deps.host }, (m) => deps.log.warn(m));
  return {
    config,
    configDir: loaded.dir,
    configPath: loaded.path,
    target,
    store,
    deps,
    options: runOptions,
  };
}

/** Runs `work` with an open session and closes its store afterwards, whatever happens. */
export async function withSession<T>(options: GlobalOptions, needs: SessionNeeds, work: (session: Session) => Promise<T>): Promise<T> {
  const session = await openSession(options, needs);
  try {
    return await work(session);
  } finally {
    await session.store.close();
  }
}

/**
 * The named ids, each checked against the config. A typo gets a "did you mean", also when the closest name is a
 * command (`rotate statsu`).
 */
export function resolveSecretIds(
  session: Pick<Session, 'config' | 'configPath'>,
  names: string[],
  commands: readonly string[] = [],
): string[] {
  const known = Object.keys(session.config.secrets);
  for (const name of names) {
    if (known.includes(name)) continue;
    const where = session.configPath ?? 'the built-in defaults';
    const guess = closest(name, [...known, ...commands]);
    const what = commands.length > 0 ? 'secret or command' : 'secret';
    throw usageError(
      'UNKNOWN_SECRET',
      `there is no ${what} "${name}" in ${where}${guess ? `; did you mean \`${guess}\`?` : ''}`,
      `known secrets: ${known.join(', ')}${commands.length > 0 ? '; `rotate help` lists the commands' : ''}`,
    );
  }
  return [...new Set(names)];
}

/** Whether the config talks to a cluster: a Kubernetes Secret target, or a service that is a workload. */
function usesKubernetes(config: { target?: unknown; services: Record<string, { kubernetes?: unknown }> }): boolean {
  return (
    (config.target as { type?: string } | undefined)?.type === 'kubernetes' || Object.values(config.services).some((s) => s.kubernetes)
  );
}

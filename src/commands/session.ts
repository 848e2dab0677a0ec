import type { RunOptions, Session } from '../engine/session.js';
import { RotateError, usageError } from '../errors.js';
import { journalSecretIds } from '../store/types.js';
import type { GlobalOptions } from './options.js';
import { closest } from './suggest.js';

const DEFAULT_RUN: RunOptions = { restart: true, emergency: false, unattended: false, allowUnpersisted: false };

/**
 * Loads the config, opens the store and builds the side effects for one invocation. Loaded on first use, so that
 * `rotate --help` never pays for the config schema, the store or the engine.
 */
export async function openSession(options: GlobalOptions, run: Partial<RunOptions> = {}): Promise<Session> {
  const [{ loadConfig }, { processDeps }, { openStore }, { credentialEnvNames }, { openTarget }] = await Promise.all([
    import('../config/load.js'),
    import('../engine/process-deps.js'),
    import('../store/index.js'),
    import('../config/credential-env.js'),
    import('../target/index.js'),
  ]);
  const loaded = await loadConfig({ config: options.config, envFile: options.envFile, cwd: process.cwd() });
  const runOptions = { ...DEFAULT_RUN, ...run };
  // Every variable the config names as a credential (store URL, admin URLs, the secrets' own keys): no child sees it.
  const privateEnvNames = credentialEnvNames(loaded.config);
  const { stopSignal } = await import('./interrupt.js');
  const deps = processDeps({
    quiet: options.quiet,
    verbose: options.verbose,
    unattended: runOptions.unattended,
    privateEnvNames,
    stop: stopSignal,
  });
  const target = await openTarget(loaded.config.target, loaded.envFiles, { log: deps.log });
  const store = await openStore(loaded.config, loaded.dir, deps.environment, (m) => deps.log.warn(m));
  return {
    config: loaded.config,
    configDir: loaded.dir,
    configPath: loaded.path,
    envFiles: loaded.config.target.type === 'envfile' ? loaded.envFiles : [],
    target,
    store,
    deps,
    options: runOptions,
  };
}

/** Runs `work` with an open session and closes its store afterwards, whatever happens. */
export async function withSession<T>(options: GlobalOptions, run: Partial<RunOptions>, work: (session: Session) => Promise<T>): Promise<T> {
  const session = await openSession(options, run);
  try {
    return await work(session);
  } finally {
    await session.store.close();
  }
}

/** Runs `work` holding the store's lock (exit 4 when another run holds it), released afterwards. */
export async function withLock<T>(session: Session, label: string, work: () => Promise<T>): Promise<T> {
  const lock = await session.store.acquireLock(label);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

/**
 * The named ids, each checked against the config. A typo gets a "did you mean", also when the closest name is a
 * command (`rotate statsu`).
 */
export function resolveSecretIds(session: Session, names: string[], commands: readonly string[] = []): string[] {
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

/** Refuses to start while an interrupted run waits for `rotate resume`. */
export async function assertNoPendingRun(session: Session): Promise<void> {
  const journals = await session.store.readJournals();
  if (journals.length === 0) return;
  const names = journals.map(
    (j) => `${journalSecretIds(j).join(', ')} (${j.mode} ${j.runId} from ${j.host}, ${j.needsPerson ?? 'interrupted'})`,
  );
  throw new RotateError('RUN_PENDING', `an earlier run did not finish: ${names.join('; ')}`, {
    hint: 'run `rotate status` to see it, then `rotate resume` to finish or undo it',
  });
}

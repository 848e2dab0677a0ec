import type { Config, Kind, SecretConfig } from '../config/schema.js';
import { withRunOverrides } from '../secrets/index.js';
import type { Rotator, RotatorDeps, RunOverrides } from '../secrets/types.js';
import type { Store } from '../store/types.js';
import type { Target } from '../target/types.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Ended by `timeoutMs`: its whole process group was killed. */
  timedOut?: boolean;
}

/** What a hook's command gets beyond a restart command's: its variables (the values) and a deadline. */
export interface CommandOptions {
  /** Added to the child's environment after the credential variables are removed. */
  env?: Record<string, string>;
  /** Past it the command's process group gets SIGTERM, then SIGKILL 5 s later. */
  timeoutMs?: number;
}

/** The side effects the engine uses beyond a rotator's: child processes and the notification hook. */
export interface EngineDeps extends RotatorDeps {
  runCommand(command: string, cwd: string, options?: CommandOptions): Promise<CommandResult>;
  actor: string;
  host: string;
  /** This process's id, journaled so `rotate status` can say which process left a run unfinished. */
  pid: number;
  /** A new run id. */
  randomUUID(): string;
  /**
   * Says what a stop request would do now, for the line the first SIGINT/SIGTERM prints at once (commands/interrupt.ts):
   * the latest `describe` given wins until the function returned is called. `describe` returns undefined when it has
   * nothing to say (the one before it is asked then).
   */
  describeStop?(describe: () => string | undefined): () => void;
  /** Runs work that changes what rotate manages: from its start on, a signal waits for a safe point (absent: just runs it). */
  whileChanging?<T>(work: () => Promise<T>): Promise<T>;
  /** The registry (src/secrets/index.ts); engine tests pass a fake rotator here. */
  loadRotator(kind: Kind): Promise<Rotator<any>>;
}

/** How this invocation runs; the kinds apply their own overrides (`RunOverrides`) to their config. */
export interface RunOptions extends RunOverrides {
  restart: boolean;
  emergency: boolean;
  reason?: string;
  /** cron `--due`: never prompt, never read stdin. */
  unattended: boolean;
}

/** Everything one invocation of `rotate` works with. */
export interface Session {
  config: Config;
  configDir: string;
  configPath: string | undefined;
  /** Where values are read and written: the env files, or a Kubernetes Secret. */
  target: Target;
  store: Store;
  deps: EngineDeps;
  options: RunOptions;
}

export function secretConfig(session: Session, id: string): SecretConfig {
  const config = session.config.secrets[id];
  if (!config) throw new Error(`unknown secret ${id}`);
  return withRunOverrides(config, session.options);
}

import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROTATE_PRIVATE_ENV } from '../config/credential-env.js';
import type { CommandOptions, CommandResult, EngineDeps } from '../engine/index.js';
import { loadRotator } from '../secrets/index.js';
import { createLogger, type TerminalOptions } from '../terminal/logger.js';
import { createProgress } from '../terminal/progress.js';
import { readSecretInput } from '../terminal/secret-input.js';
import { tracedFetch } from '../trace.js';

function runCommand(
  command: string,
  cwd: string,
  environment: NodeJS.ProcessEnv,
  privateNames: Set<string>,
  stop: AbortSignal | undefined,
  options: CommandOptions = {},
): Promise<CommandResult> {
  const env = {
    ...Object.fromEntries(Object.entries(environment).filter(([key]) => !ROTATE_PRIVATE_ENV.test(key) && !privateNames.has(key))),
    // A hook's values, named by rotate: added after the filter, which would remove ROTATE_NEW_*.
    ...options.env,
  };
  return new Promise((resolve) => {
    // Its own process group, so that a stop ends the command and everything it started in the foreground (a
    // restart left running would race `rotate resume`'s own restart); what it detaches (the app) lives on.
    const child = spawn('/bin/sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let forced: NodeJS.Timeout | undefined;
    let timedOut = false;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const onStop = () => {
      signalGroup('SIGTERM');
      forced = setTimeout(() => signalGroup('SIGKILL'), 5_000);
    };
    if (stop?.aborted) onStop();
    else stop?.addEventListener('abort', onStop, { once: true });
    // A hook that hangs: its whole group goes (what it started in the foreground too), as on a stop.
    const deadline =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            onStop();
          }, options.timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = (result: CommandResult) => {
      stop?.removeEventListener('abort', onStop);
      clearTimeout(forced);
      clearTimeout(deadline);
      resolve(timedOut ? { ...result, timedOut } : result);
    };
    child.on('error', (error) => done({ code: 127, stdout, stderr: `${stderr}${error.message}` }));
    child.on('close', (code, signal) => done({ code: code ?? 1, stdout, stderr: signal ? `${stderr}(ended by ${signal})` : stderr }));
  });
}

export interface ProcessDepsOptions extends TerminalOptions {
  unattended: boolean;
  /** Names of process env vars the config names as credentials (config/credential-env.ts): kept from children. */
  privateEnvNames: string[];
  /** Aborted by the first SIGINT/SIGTERM (commands/interrupt.ts). */
  stop?: AbortSignal;
  /** Marks the start of changing work (commands/interrupt.ts). */
  whileChanging?<T>(work: () => Promise<T>): Promise<T>;
  /** What a stop request would do now, for the first signal's acknowledgement (commands/interrupt.ts). */
  describeStop?(describe: () => string | undefined): () => void;
}

/** The real side effects: this process's clock, randomness, network, terminal and children. */
export function processDeps(options: ProcessDepsOptions): EngineDeps {
  const environment = process.env;
  const privateNames = new Set(options.privateEnvNames);
  let actor = 'unknown';
  try {
    actor = `${userInfo().username}@${hostname()}`;
  } catch {
    actor = `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
  }
  return {
    now: () => new Date(),
    randomBytes: (size) => randomBytes(size),
    fetch: tracedFetch(globalThis.fetch),
    environment,
    log: createLogger(options, environment),
    progress: createProgress(!options.quiet),
    readSecretInput: (names) => readSecretInput(names, environment, options.unattended),
    sleep: (ms) => sleep(ms),
    runCommand: (command, cwd, commandOptions) => runCommand(command, cwd, environment, privateNames, options.stop, commandOptions),
    ...(options.stop ? { stop: options.stop } : {}),
    ...(options.whileChanging ? { whileChanging: options.whileChanging } : {}),
    ...(options.describeStop ? { describeStop: options.describeStop } : {}),
    actor,
    host: hostname(),
    pid: process.pid,
    randomUUID: () => randomUUID(),
    loadRotator,
  };
}

import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROTATE_PRIVATE_ENV } from '../config/credential-env.js';
import { loadRotator } from '../secrets/index.js';
import { createLogger, type TerminalOptions } from '../terminal/logger.js';
import { createProgress } from '../terminal/progress.js';
import { readSecretInput } from '../terminal/secret-input.js';
import type { CommandResult, EngineDeps } from './session.js';

function runCommand(command: string, cwd: string, environment: NodeJS.ProcessEnv, privateNames: Set<string>): Promise<CommandResult> {
  const env = Object.fromEntries(Object.entries(environment).filter(([key]) => !ROTATE_PRIVATE_ENV.test(key) && !privateNames.has(key)));
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => resolve({ code: 127, stdout, stderr: `${stderr}${error.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export interface ProcessDepsOptions extends TerminalOptions {
  unattended: boolean;
  /** Names of process env vars the config names as credentials (config/credential-env.ts): kept from children. */
  privateEnvNames: string[];
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
    fetch: globalThis.fetch,
    environment,
    log: createLogger(options, environment),
    progress: createProgress(!options.quiet),
    readSecretInput: (names) => readSecretInput(names, environment, options.unattended),
    sleep: (ms) => sleep(ms),
    runCommand: (command, cwd) => runCommand(command, cwd, environment, privateNames),
    actor,
    host: hostname(),
    pid: process.pid,
    randomUUID: () => randomUUID(),
    loadRotator,
  };
}

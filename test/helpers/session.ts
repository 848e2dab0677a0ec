// A Session for engine tests: the real file store and env editor in a temp folder, a fake clock, and whatever
// rotator the test passes in place of the registry.
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import type { EngineDeps, RunOptions, Session } from '../../src/engine/session.js';
import type { Rotator } from '../../src/secrets/types.js';
import { FileStore } from '../../src/store/file.js';
import { openEnvFileTarget } from '../../src/target/envfile.js';
import { scratchDir } from './cli.js';

export interface TestSession extends Session {
  dir: string;
  /** The one env file of the session's target. */
  envFile: string;
  logged: string[];
  commands: string[];
  clock: { now: Date };
}

export function testSession(options: {
  rotator: Rotator<any>;
  config?: Record<string, unknown>;
  envText?: string;
  run?: Partial<RunOptions>;
}): TestSession {
  const dir = scratchDir('rotate-engine-');
  writeFileSync(join(dir, '.env'), options.envText ?? 'JWT_SECRET=old-value-0123456789-0123456789-abcdef\n');
  const logged: string[] = [];
  let runs = 0;
  const commands: string[] = [];
  const clock = { now: new Date('2026-01-01T00:00:00Z') };
  const deps: EngineDeps = {
    now: () => new Date(clock.now),
    randomBytes: (size) => Buffer.alloc(size, 7),
    fetch: globalThis.fetch,
    environment: {},
    log: { info: (m) => logged.push(m), warn: (m) => logged.push(m), debug: (m) => logged.push(m) },
    progress: () => ({ tick: () => {}, done: () => {} }),
    readSecretInput: async () => ({}),
    sleep: async () => {},
    runCommand: async (command) => {
      commands.push(command);
      return { code: 0, stdout: '', stderr: '' };
    },
    actor: 'tester@host',
    host: 'host',
    pid: 4242,
    randomUUID: () => `run-${++runs}`,
    loadRotator: async () => options.rotator,
  };
  const config = parseConfig(
    options.config ?? { services: { app: { restart: 'restart-app' } }, secrets: { jwt: { kind: 'jwt', services: ['app'] } } },
    'test',
  );
  return {
    dir,
    logged,
    commands,
    clock,
    config,
    configDir: dir,
    configPath: undefined,
    envFile: join(dir, '.env'),
    target: openEnvFileTarget([join(dir, '.env')]),
    store: new FileStore({
      dir: join(dir, '.rotate'),
      masterKey: 'b'.repeat(64),
      holder: { pid: process.pid, host: hostname() },
      warn: (m) => logged.push(m),
    }),
    deps,
    options: { restart: true, emergency: false, unattended: false, allowUnpersisted: false, ...options.run },
  };
}

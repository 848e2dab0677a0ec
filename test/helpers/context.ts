// Builds a RotatorContext for tests that drive a rotator's steps directly against real servers.
import { randomBytes } from 'node:crypto';
import { type SecretConfig, secretSchema } from '../../src/config/schema.js';
import type { JsonValue } from '../../src/core-types.js';
import type { SecretValue } from '../../src/secret-value.js';
import type { RotatorContext, RotatorDeps } from '../../src/secrets/types.js';

export interface TestContextOptions {
  id?: string;
  /** The secret's config as a user writes it; parsed with the real schema. */
  config: Record<string, unknown>;
  env?: Record<string, string>;
  environment?: Record<string, string | undefined>;
  emergency?: boolean;
  unattended?: boolean;
  lastFacts?: Record<string, JsonValue>;
  secretInput?: Record<string, SecretValue>;
  now?: () => Date;
}

export interface TestContext<C extends SecretConfig> extends RotatorContext<C> {
  /** Everything the rotator logged, for secret-leak greps. */
  logged: string[];
}

export function testContext<C extends SecretConfig>(options: TestContextOptions): TestContext<C> {
  const logged: string[] = [];
  const deps: RotatorDeps = {
    now: options.now ?? (() => new Date()),
    randomBytes: (size) => randomBytes(size),
    fetch: globalThis.fetch,
    environment: options.environment ?? {},
    log: {
      info: (m) => logged.push(m),
      warn: (m) => logged.push(m),
      debug: (m) => logged.push(m),
    },
    progress: () => ({ tick: () => {}, done: () => {} }),
    readSecretInput: async (names) =>
      Object.fromEntries(names.flatMap(({ name }) => (options.secretInput?.[name] ? [[name, options.secretInput[name]]] : []))),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  return {
    id: options.id ?? String(options.config.kind),
    config: secretSchema.parse(options.config) as C,
    env: options.env ?? {},
    envFile: '/dev/null',
    configDir: process.cwd(),
    emergency: options.emergency ?? false,
    unattended: options.unattended ?? false,
    lastFacts: options.lastFacts ?? {},
    deps,
    logged,
  };
}

// Builds a RotatorContext for tests that drive a rotator's steps directly against real servers.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { type SecretConfig, secretSchema } from '../../src/config/schema.js';
import type { JsonValue } from '../../src/core-types.js';
import { checksOf } from '../../src/engine/checks.js';
import type { SecretValue } from '../../src/secret-value.js';
import type { EnvChanges, Rotation, Rotator, RotatorContext, RotatorDeps } from '../../src/secrets/types.js';

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
    location: '/dev/null',
    files: [],
    configDir: process.cwd(),
    emergency: options.emergency ?? false,
    unattended: options.unattended ?? false,
    lastFacts: options.lastFacts ?? {},
    deps,
    logged,
  };
}

/** Writes `changes` into ctx.env as the engine writes the env file: a value sets its key, null removes it. */
export function writeEnv(ctx: RotatorContext, changes: EnvChanges): void {
  const env = { ...ctx.env };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete env[key];
    else env[key] = value.reveal();
  }
  ctx.env = env;
}

/**
 * One whole rotation as the engine runs it, every check passing: preflight, generate, apply with the env written
 * around it (staged, then the new values), verify, retire, the retirement's env, verify-retired. Returns the rotation
 * and the JSON of everything the steps produced, for leak greps.
 */
export async function rotateThrough<C extends SecretConfig>(
  rotator: Rotator<C>,
  ctx: TestContext<C>,
): Promise<{ rotation: Rotation; produced: string[] }> {
  const pre = await rotator.preflight(ctx);
  expect(pre.checks.filter((c) => !c.ok)).toEqual([]);
  const rotation = await rotator.generate(ctx);
  if (rotation.stageEnv) writeEnv(ctx, rotation.stageEnv);
  const applied = (await rotator.apply(ctx, rotation)) ?? rotation;
  writeEnv(ctx, applied.env);
  const verified = await rotator.verify(ctx, applied);
  expect(checksOf(verified).filter((c) => !c.ok)).toEqual([]);
  const verifiedRotation = Array.isArray(verified) ? applied : verified.rotation;
  const retiring = (await rotator.retire(ctx, verifiedRotation)) ?? verifiedRotation;
  if (retiring.retireEnv) writeEnv(ctx, retiring.retireEnv);
  const retired = await rotator.verifyRetired(ctx, retiring);
  expect(retired.filter((c) => !c.ok)).toEqual([]);
  return {
    rotation: retiring,
    produced: [JSON.stringify(pre), JSON.stringify(rotation), JSON.stringify(checksOf(verified)), JSON.stringify(retired)],
  };
}

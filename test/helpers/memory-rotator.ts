import { SecretValue } from '../../src/secret-value.js';
import { oldAndNew } from '../../src/secrets/journaled.js';
import type { Rotator } from '../../src/secrets/types.js';

/**
 * A jwt rotator whose "provider" is a set of valid values in memory: it starts with `old`, every rotation moves it to
 * `next`, and each step changes or reads that set. `failVerify` makes the new value fail its check.
 */
export function memoryRotator(old: string, next: string, options: { failVerify?: boolean } = {}): Rotator {
  const provider = new Set([old]);
  return {
    kind: 'jwt',
    journaled: oldAndNew,
    preflight: async (ctx) => ({ checks: [{ id: 'env-key-present', name: 'current works', ok: provider.has(ctx.env.JWT_SECRET!) }] }),
    generate: async (ctx) => ({
      env: { JWT_SECRET: new SecretValue(next) },
      secrets: { old: new SecretValue(ctx.env.JWT_SECRET!), new: new SecretValue(next) },
      facts: {},
    }),
    apply: async (_ctx, rotation) => void provider.add(rotation.secrets.new!.reveal()),
    undoApply: async (_ctx, rotation) => void provider.delete(rotation.secrets.new!.reveal()),
    verify: async (ctx) => [{ id: 'env-key-holds-new', name: 'new works', ok: !options.failVerify && provider.has(ctx.env.JWT_SECRET!) }],
    retire: async (_ctx, rotation) => void provider.delete(rotation.secrets.old!.reveal()),
    verifyRetired: async (_ctx, rotation) => [
      { id: 'old-value-refused', name: 'old refused', ok: !provider.has(rotation.secrets.old!.reveal()) },
    ],
    verifyCurrent: async (ctx) => [{ id: 'env-key-present', name: 'current works', ok: provider.has(ctx.env.JWT_SECRET!) }],
  };
}

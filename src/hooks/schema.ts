import * as z from 'zod/mini';

/** Where a hook runs in a rotation (CONTRACT.md, "Fleet and hooks"). */
export const HOOK_POINTS = ['before', 'afterApply', 'afterVerify', 'onRollback'] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];

/** One hook: a shell command run with /bin/sh -c in the config's folder, the values only in its environment. */
export const hookSchema = z.strictObject({
  run: z.string().check(z.minLength(1)),
  /** `one`: on the host that runs the rotation (a data migration); `every`: also on each fleet host (a cache flush). */
  runOn: z._default(z.enum(['one', 'every'], { error: 'expected one or every' }), 'one'),
  timeoutSeconds: z._default(z.number().check(z.positive(), z.lte(86_400)), 300),
  /** Safe to run twice: a resume after a crash in the middle of it runs it again instead of asking a person. */
  idempotent: z._default(z.boolean(), false),
});

export const hooksSchema = z.strictObject({
  before: z.optional(hookSchema),
  afterApply: z.optional(hookSchema),
  afterVerify: z.optional(hookSchema),
  onRollback: z.optional(hookSchema),
});

export type HookConfig = z.output<typeof hookSchema>;
export type HooksConfig = z.output<typeof hooksSchema>;

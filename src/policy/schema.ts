// The policy keys of rotate.config.json (CONTRACT.md, "Environments, policy, leaks"): which environment a config
// rotates, the staging-first gate, and which secrets a leak of another takes along.
import * as z from 'zod/mini';

/** An environment's name as runs record it: `staging`, `production`, `eu-prod`. */
export const environmentName = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected an environment name of lowercase letters, digits, - and _ (staging, production)'));

/**
 * `promotion`: a rotation here waits for a verified rotation of the same secret (or else of the same kind) in the
 * `after` environment within `withinDays` (src/policy/promotion.ts).
 */
export const promotionSchema = z.strictObject({
  after: environmentName,
  withinDays: z._default(z.number().check(z.positive(), z.lte(3650)), 14),
});
export type PromotionConfig = z.output<typeof promotionSchema>;

/** Secret ids rotated together with this one when `rotate leak` finds it leaked ("rotate all related secrets"). */
export const relatedSchema = z.array(z.string().check(z.regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a secret id')));

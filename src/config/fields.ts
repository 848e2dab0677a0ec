// The pieces every kind's config schema is built from (each kind declares its own schema in src/secrets/<kind>/kind.ts;
// src/config/schema.ts assembles them).
import * as z from 'zod/mini';
import { hooksSchema } from '../hooks/schema.js';
import { promotionSchema, relatedSchema } from '../policy/schema.js';
import { windowSchema } from '../schedule/window.js';

/** Names of environment variables: what `.env` files and shells accept. */
export const envName = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name like JWT_SECRET'));

export const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

export const nonEmpty = () => z.string().check(z.minLength(1));

/** Days between rotations, with the kind's default. */
export const intervalDays = (days: number) => z._default(z.number().check(z.positive()), days);

/** The keys every secret has, whatever its kind. */
export const secretFields = {
  services: z._default(z.array(nonEmpty()), []),
  /** Hours the old value stays valid after a rotation; 0 retires it at once. */
  graceHours: z._default(z.number().check(z.gte(0)), 0),
  description: z.optional(z.string()),
  /** When `--due` may rotate this secret; overrides the top-level `window`. */
  window: z.optional(windowSchema),
  /** Shell commands at points of the rotation (src/hooks/run.ts). */
  hooks: z.optional(hooksSchema),
  /** The staging-first gate for this secret; overrides the top-level `promotion`. */
  promotion: z.optional(promotionSchema),
  /** Secrets `rotate leak` rotates together with this one when it leaks. */
  related: z.optional(relatedSchema),
};

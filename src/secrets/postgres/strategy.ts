import type { PostgresUrl } from '../../connection/postgres-url.js';
import type { Check, JsonValue } from '../../core-types.js';
import type { Rotation } from '../types.js';
import type { Ctx, RotationData } from './credentials.js';

/** What differs between `alter-password` and `alternate-roles`; index.ts holds what they share. */
export interface Strategy {
  /** Read-only checks of this strategy (who may alter which role, the role layout). */
  preflight(ctx: Ctx, app: PostgresUrl): Promise<{ checks: Check[]; facts: Record<string, JsonValue> }>;
  /** The credentials the env file gets next (with `restore`: the ones that rotation replaced). */
  next(ctx: Ctx, app: PostgresUrl, restore?: Rotation): Promise<{ user: string; password: string; facts: Record<string, JsonValue> }>;
  /** Returns the rotation with what apply learned (alter-password: when the old password stopped working). */
  apply(ctx: Ctx, rotation: Rotation): Promise<Rotation | void>;
  undoApply(ctx: Ctx, rotation: Rotation): Promise<void>;
  retire(ctx: Ctx, rotation: Rotation): Promise<void>;
  /** What `retire` took away, for index.ts's verifyRetired to prove: the old login, and (emergency) its sessions. */
  retired(ctx: Ctx, rotation: Rotation, data: RotationData): Retired;
}

/** The wording of the old login's refusal, and the sessions that must be gone after `--emergency`. */
export interface Retired {
  check: string;
  /** The detail when the old login still works. */
  stillWorks: string;
  hint: string;
  sessions: { where: string; params: unknown[]; remain: string };
}

import type * as z from 'zod/mini';
import type { Kind, SecretConfig } from '../config/schema.js';
import type { Check, JsonValue, Logger, Progress } from '../core-types.js';
import type { SecretValue } from '../secret-value.js';
import type { Facts, FactsMoment } from './facts.js';

/** Env-file changes: a new value, or `null` to remove the line. */
export type EnvChanges = Record<string, SecretValue | null>;

/** The secret material of a kind's rotations, by name (`old`, `new`, ...); the kind's schema says which are required. */
export type RotationSecrets = Readonly<Record<string, SecretValue | undefined>>;

/**
 * What a rotator produced for one rotation. The engine journals it (secrets sealed with the store's key) before
 * any side effect, so that `rotate resume` and `rotate rollback` can finish or undo it from another process; it
 * decodes a journaled one against the kind's schema (`Rotator.journaled`) before a rotator sees it.
 *
 * `S` is the kind's secret material, `L` what its steps learned in this process (never journaled). A step never
 * changes the rotation it is given: `apply` and `retire` return the rotation the later steps get, and the engine
 * journals it.
 */
export interface Rotation<S extends RotationSecrets = RotationSecrets, L = unknown> {
  /** Written to the env file at the write-env step. */
  readonly env: EnvChanges;
  /** Written after the old value is retired (e.g. remove JWT_SECRET_PREVIOUS). */
  readonly retireEnv?: EnvChanges;
  /**
   * Written before apply (the run step `write-stage`, no restart): keys the app does not read that hold the new value
   * while apply moves data to it (exchange-key's `<env>_NEXT`), so that from the first change on, whatever the data is
   * under is in the target. `env` removes them. An undo re-does the staged members' undoApply before it puts the
   * target back: the key the data may still be under leaves the target last.
   */
  readonly stageEnv?: EnvChanges;
  /** `retireEnv` only removes keys the app does not read (exchange-key's `<env>_PREVIOUS`): no restart after it. */
  readonly retireWithoutRestart?: true;
  /** Secret material the later steps need (old and new passwords, keys). Sealed, never printed. */
  readonly secrets: S;
  /** Non-secret facts (row counts, role names, endpoint ids) for the plan, the summary and the history. */
  readonly facts: Readonly<Record<string, JsonValue>>;
  /**
   * What earlier steps of this run proved or did in this process, for a later step to build on (exchange-key: the
   * rows its apply wrote, verify's proof that retire reuses). Never journaled: a resumed run starts without it, and a
   * step must then do the work itself.
   */
  readonly learned?: L;
}

/**
 * What a kind's journaled rotations must hold (`Rotator.journaled`): its secrets as sealed (plain strings; the ones
 * its steps need required) and the facts its steps read back. The engine decodes every rotation it reads back (a
 * resume's journal, a rollback's or retirement's last rotation) against it once, before a rotator sees it: one that
 * does not decode is a damaged store (STORE_CORRUPT, exit 3) whatever the kind.
 */
export interface RotationSchema<R extends Rotation = Rotation> {
  secrets: z.ZodMiniType<{ [K in keyof R['secrets']]: string }>;
  /** The facts its steps read (a loose object: facts it does not name pass as they are). */
  facts: z.ZodMiniType;
}

/** What `verify` returns: its checks, or its checks with the rotation the later steps get (what it proved). */
export type Verified<R extends Rotation> = Check[] | { checks: Check[]; rotation: R };

/** The side effects a rotator may use; tests pass fakes for the clock and randomness. */
export interface RotatorDeps {
  now(): Date;
  randomBytes(size: number): Buffer;
  fetch: typeof fetch;
  /** The process environment (admin URLs, ROTATE_NEW_* hand-over variables). Not the env file. */
  environment: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** A progress bar on a TTY, silent elsewhere. */
  progress(label: string, total: number): Progress;
  /**
   * Asks for secret values the operator must hand in (Stripe): from the environment variable of the same name,
   * else `NAME=value` lines on stdin when it is not a TTY, else a hidden prompt. Missing ones are absent.
   */
  /** `optional` values are not waited for on stdin when the environment gives every required one. */
  readSecretInput(names: { name: string; prompt: string; optional?: boolean }[]): Promise<Record<string, SecretValue>>;
  sleep(ms: number): Promise<void>;
  /**
   * Aborted by the first SIGINT/SIGTERM: a run stops at its next safe point (between steps). A rotator whose step can
   * end early and safely (exchange-key's apply, after the batch it is writing) watches it and says so (stopsApplyAt).
   */
  stop?: AbortSignal;
}

export interface RotatorContext<C extends SecretConfig = SecretConfig> {
  /** The secret's id in the config (`jwt`, `database`, ...). */
  id: string;
  config: C;
  /** The target's values as read now (after the write-target step: the new values). Keys are env names. */
  env: Readonly<Record<string, string>>;
  /**
   * Where those values live, for messages (the target's description): `/app/.env`, `/app/.env and
   * /app/worker/.env`, `Secret ns/name`.
   */
  location: string;
  /**
   * The env files of the target (the target's `files`): where a kind that works on the file itself finds it (dotenvx's
   * keypair). Empty when the values do not live in env files (a Kubernetes Secret). `location` is only for messages.
   */
  files: readonly string[];
  configDir: string;
  /** `--emergency`: retire the old value at once and cut its sessions where the provider can. */
  emergency: boolean;
  /** `--due` (cron): nobody is there to answer a prompt; stdin is not read. */
  unattended: boolean;
  /** Non-secret facts recorded by this secret's last completed rotation (e.g. the Stripe account id). */
  lastFacts: Readonly<Record<string, JsonValue>>;
  deps: RotatorDeps;
}

export interface Preflight {
  checks: Check[];
  /** What a dry run shows: row counts, time estimates, the user whose password changes. */
  facts?: Record<string, JsonValue>;
}

/**
 * One kind of secret. Data plus a few async steps; the engine owns the order, the journal, the lock and the
 * rollback. A rotator never prints, never touches `process`, never calls another rotator.
 *
 * Order: preflight -> generate -> apply -> (engine writes the target, restarts, reloads ctx.env) -> verify ->
 * retire (now, or after graceHours) -> (engine writes retireEnv, restarts if it did) -> verifyRetired.
 * On failure after apply: undoApply (the engine restores the target and restarts). A run may hold several
 * secrets: each step runs for every secret of the set before the next (one write, one restart per service).
 */
export interface Rotator<C extends SecretConfig = SecretConfig, R extends Rotation = Rotation> {
  kind: Kind;
  /** What its rotations hold when read back from the store. */
  journaled: RotationSchema<R>;
  /** Set when a rotation cannot run unattended right now (e.g. Stripe without a handed-over key): what to do. */
  needsOperator?(ctx: RotatorContext<C>): string | undefined;
  /**
   * Read-only and cheap (a planner estimate, never a pass over the data): what the plan before consent counts for this
   * secret, as sentences (exchange-key: the rows per table to re-encrypt and an estimated time). Absent: nothing.
   */
  consentCounts?(ctx: RotatorContext<C>): Promise<string[]>;
  /**
   * Read-only: the current value works and the provider is reachable. A failing check stops the rotation; one that
   * carries a `code` registered with exit 2 (bad input: a credential override in a URL) stops the run as that error
   * before anything changes, and a dry run shows it as a failed check. The one way to stop a run: never throw.
   */
  preflight(ctx: RotatorContext<C>): Promise<Preflight>;
  /**
   * The new values. With `restore` (a `rotate rollback`), the rotation goes back to the values that `restore`
   * replaced: `restore.secrets` holds what this rotator saved when it made that rotation.
   */
  generate(ctx: RotatorContext<C>, restore?: R): Promise<R>;
  /**
   * Provider-side change that keeps the old value valid where the provider allows. Idempotent. Returns the rotation
   * the later steps get when apply learned something (Stripe's new signing secret); nothing: the one given.
   */
  apply(ctx: RotatorContext<C>, rotation: R): Promise<R | void>;
  /**
   * Where its apply ends when `deps.stop` is aborted, said in the line that acknowledges the signal ("after the batch
   * being re-encrypted"); it then throws, and what it did is left for `undoApply`. Absent: apply runs to its end.
   */
  stopsApplyAt?(ctx: RotatorContext<C>): string | undefined;
  /** Reverses `apply`, also after a partial or crashed apply. Idempotent. */
  undoApply(ctx: RotatorContext<C>, rotation: R): Promise<void>;
  /** After the env file holds the new values and the services restarted: the new value works. */
  verify(ctx: RotatorContext<C>, rotation: R): Promise<Verified<R>>;
  /** Makes the old value stop working at the provider. Idempotent. Returns the rotation verifyRetired gets, like apply. */
  retire(ctx: RotatorContext<C>, rotation: R): Promise<R | void>;
  /** The old value is refused now. */
  verifyRetired(ctx: RotatorContext<C>, rotation: R): Promise<Check[]>;
  /** `rotate verify`: the current values work; changes nothing. */
  verifyCurrent(ctx: RotatorContext<C>): Promise<Check[]>;
}

/**
 * What the config, the engine and the commands know of a kind without loading its rotator (each kind's `kind.ts`;
 * src/secrets/index.ts lists them). Rotators load on first use, so `rotate --help` and `rotate status` never pay for
 * pg, ioredis or stripe; everything here is read from the config alone.
 */
export interface SecretKind<C extends SecretConfig> {
  kind: C['kind'];
  /** Secret ids that name this kind: `"database": {}` in the config is a postgres secret. */
  ids: readonly string[];
  /** The secret of the built-in defaults (a config without `secrets`): its id and what it sets beyond the kind's defaults. */
  builtIn?: { id: string; config: Readonly<Record<string, unknown>> };
  /** A built-in secret that exists only when the target holds its key (JWT_REFRESH_SECRET signs refresh tokens). */
  builtInWhenPresent?: { key: string; id: string; config(builtIns: Readonly<Record<string, SecretConfig>>): Record<string, unknown> };
  /** What each of its own keys means (paths under the secret, beyond the keys every secret has), for editors. */
  descriptions: Readonly<Record<string, string>>;
  /** `rotate init`'s example of this secret: every key with its default, saying what it does. */
  starter: Readonly<Record<string, unknown>>;
  load(): Promise<Rotator<C>>;
  /** The env-file keys the secret writes; the first is its main value. */
  envKeys(config: C): string[];
  /**
   * The keys a run writes, for plans (absent: all of `envKeys`): jwt writes no `<env>_PREVIOUS` without a grace period.
   */
  keysWritten?(config: C, run: { emergency: boolean }): string[];
  /** Process environment variables the secret reads credentials from (admin URLs): no child process sees them. */
  credentialEnvNames(config: C): string[];
  /**
   * Which optional writes its rotations make (absent: neither): `stage`, a `Rotation.stageEnv` before apply;
   * `onRetire`, a `Rotation.retireEnv` when the old value is retired. A dry run lists the run's steps from this
   * without generating; a real run's rotation must agree (test/unit/engine-steps.test.ts checks every kind).
   */
  writes?(config: C, run: { emergency: boolean }): RotationWrites;
  /** Its `alsoUpdate` keys hold bare copies of the main value, which the engine writes (the rotator writes the main key). */
  bareCopies?: true;
  /** The config as this run sees it, with the command-line options that override it (absent: unchanged). */
  withOverrides?(config: C, run: RunOverrides): C;
  /** `rotate setup <secret>`: the one-time layout a strategy needs (loaded on first use). */
  setup?(config: C): Promise<OneTimeSetup<C> | undefined>;
  /**
   * The facts its preflight and generation record, as sentences for the terminal (`--json` keeps the facts as they
   * are). A fact that means nothing to an operator (an internal id, a timestamp a later step reads) gets none.
   */
  describeFacts(facts: Facts, moment: FactsMoment): string[];
  /**
   * What a rotation of this secret costs the people and processes using it (who is logged out, what is refused until
   * when), one sentence each, for the plan shown before consent (src/engine/consent.ts). From the config alone:
   * nothing is read before consent. Absent: the plan names the keys it writes and nothing more.
   */
  consentCosts?(config: C, run: ConsentRun): string[];
  /**
   * What a rotation of this secret cannot check in the running app with this config (a JWT secret without
   * `verify.url`: nothing asks the app to accept the new secret), as a sentence; undefined when its verify step
   * checks the new value where it is used. The result then never says "verified" (src/terminal/render.ts).
   */
  unchecked?(config: C): string | undefined;
}

/** What the plan before consent knows of the run when it words a kind's costs (`SecretKind.consentCosts`). */
export interface ConsentRun {
  /** The services that restart after the write, in the config's order (empty: none is named). */
  services: readonly string[];
  /** `until <services> restart`, or `until the processes that read it restart` when none is named. */
  until: string;
}

/** The optional target writes of a kind's rotations (`SecretKind.writes`). */
export interface RotationWrites {
  stage: boolean;
  onRetire: boolean;
}

/** Command-line options that override a kind's config for one run. */
export interface RunOverrides {
  /** `--allow-unpersisted`: Redis's `allowUnpersisted`. */
  allowUnpersisted: boolean;
}

/** What `rotate setup` prints (the setup as data, and as text for a person) or applies. */
export interface SetupResult {
  /** Merged into the command's JSON result, after `secret` and `applied`. */
  result: Record<string, JsonValue>;
  text: string;
}

export interface OneTimeSetup<C extends SecretConfig> {
  /** What the setup would do, for a person to read or run themselves. Changes nothing. */
  describe(ctx: RotatorContext<C>): SetupResult;
  apply(ctx: RotatorContext<C>): Promise<SetupResult>;
}

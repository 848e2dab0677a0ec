import type { Check, Logger } from '../core-types.js';
import type { ErrorInfo } from '../errors.js';

/**
 * Where the values of a run live and are written: one or several env files, or a Kubernetes Secret. The one place a
 * new target plugs in: it owns its files (or its API object and whatever it keeps in step), and the engine knows it
 * only through this interface.
 * The engine reads it once at the start of a run, writes it once per step (all changes of the set together, one
 * `write` even when the target keeps several places in step), and restores it from a sealed backup on rollback or
 * resume. Implementations: `envfile.ts` (a list of env files, each edited in place, encrypted ones through their
 * codec) and `kubernetes.ts` (a Secret's `data`, written with the `resourceVersion` read at the start); `index.ts`
 * lists them by the config's `target.type`.
 */
export interface Target {
  /** For messages and the plan: `.env and worker/.env`, `Secret cryptoorchestrator/cryptoorchestrator-secrets`. */
  readonly description: string;
  /**
   * The env files that hold the values, as opened (resolved paths), for a kind that works on the file itself
   * (dotenvx's keypair beside it). Absent for a target whose values are not in env files (a Kubernetes Secret).
   */
  readonly files?: readonly string[];
  /**
   * The values every consumer reads now (keys are env names). Several env files must agree on the value of each key
   * in `agreeOn` (the keys being rotated): a file that disagrees throws (exit 2, the file and key named).
   */
  read(agreeOn?: readonly string[]): Promise<TargetSnapshot>;
  /**
   * Read-only checks for preflight and `--dry-run`: the target exists, holds `keys`, and rotate may write it
   * (file and folder permissions; Kubernetes: SelfSubjectAccessReview). Never writes.
   */
  preflight(keys: readonly string[]): Promise<TargetPreflight>;
  /** The exact current content (every file's bytes, or the Secret's data), for the store to seal before a write. */
  backup(): Promise<Buffer>;
  /**
   * Sets (string) or removes (null) keys in one write per file / one request, leaving every other key byte for byte.
   * With `expected`, refuses (throws, nothing written) when the target changed since that snapshot was read
   * (another writer: a 409 Conflict on Kubernetes, different bytes in a file). Returns what it reads back.
   */
  write(changes: Readonly<Record<string, string | null>>, expected?: TargetSnapshot, about?: WriteAbout): Promise<TargetSnapshot>;
  /**
   * Puts `keys` back as they are in `backup` (from `backup()`): the backup's exact bytes where nothing else changed
   * since, otherwise only those keys. Idempotent: a resume may call it again after a crash.
   */
  restore(backup: Buffer, keys: readonly string[]): Promise<void>;
  /**
   * Every place that holds the values, each read on its own (each env file; the Secret and its source), for drift
   * detection: a place that went back is named. A place that cannot be read (a missing source file, an encrypted
   * source without its key) is returned with what is wrong instead of values, so that a read-only report (`status`)
   * names it and still reports the rest. Absent: `read()` is the one place.
   */
  places?(): Promise<Place[]>;
  /**
   * Git delivery (target.source.git): a write commits and pushes the source and leaves the live Secret to a GitOps
   * controller. The engine's `converge` step waits up to `convergeSeconds` until `converged` says the live Secret holds
   * `values`. Absent: a write changes every place itself.
   */
  readonly delivery?: { convergeSeconds: number; converged(values: Readonly<Record<string, string | null>>): Promise<boolean> };
}

/** One place of a target as drift detection reads it: its values, or why they cannot be read. */
export type Place =
  | { where: string; values: Readonly<Record<string, string>>; unreadable?: undefined }
  | { where: string; values?: undefined; unreadable: PlaceProblem };

/** Why a place cannot be read: the error's code, message (the file named) and the fix, redacted (`errorInfo`). */
export type PlaceProblem = ErrorInfo;

/** What a write is for, named in a git commit message: the run and its secret ids (never a value). */
export interface WriteAbout {
  runId: string;
  secrets: readonly string[];
}

/** What a target's preflight found: checks (a failing one stops a run), and warnings that do not. */
export interface TargetPreflight {
  checks: Check[];
  /**
   * Said before anything changes, by a run and a dry run alike (a world-readable env file, a value written as
   * `${OTHER}`, a managed key in plaintext in an encrypted file). Never a value.
   */
  warnings: string[];
}

/** Opens a target of one `target.type` from its config (paths already resolved). */
export type OpenTarget<C> = (
  config: C,
  deps: { log: Logger; environment: Readonly<Record<string, string | undefined>>; configDir?: string },
) => Promise<Target>;

export interface TargetSnapshot {
  values: Readonly<Record<string, string>>;
  /** Opaque: a digest of each file's bytes, or the Secret's `metadata.resourceVersion`. */
  version: string;
}

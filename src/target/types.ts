import type { Check } from '../core-types.js';

/**
 * Where the values of a run live and are written: one or several env files, or a Kubernetes Secret.
 * The engine reads it once at the start of a run, writes it once per step (all changes of the set together), and
 * restores it from a sealed backup on rollback or resume. Implementations: `envfile.ts` (a list of env files, each
 * edited in place) and `kubernetes.ts` (a Secret's `data`, written with the `resourceVersion` read at the start).
 */
export interface Target {
  /** For messages and the plan: `.env and worker/.env`, `Secret cryptoorchestrator/cryptoorchestrator-secrets`. */
  readonly description: string;
  /**
   * The values every consumer reads now (keys are env names). Several env files must agree on the value of each key
   * in `agreeOn` (the keys being rotated): a file that disagrees throws (exit 2, the file and key named).
   */
  read(agreeOn?: readonly string[]): Promise<TargetSnapshot>;
  /**
   * Read-only checks for preflight and `--dry-run`: the target exists, holds `keys`, and rotate may write it
   * (file and folder permissions; Kubernetes: SelfSubjectAccessReview). Never writes.
   */
  preflight(keys: readonly string[]): Promise<Check[]>;
  /** The exact current content (every file's bytes, or the Secret's data), for the store to seal before a write. */
  backup(): Promise<Buffer>;
  /**
   * Sets (string) or removes (null) keys in one write per file / one request, leaving every other key byte for byte.
   * With `expected`, refuses (throws, nothing written) when the target changed since that snapshot was read
   * (another writer: a 409 Conflict on Kubernetes, different bytes in a file). Returns what it reads back.
   */
  write(changes: Readonly<Record<string, string | null>>, expected?: TargetSnapshot): Promise<TargetSnapshot>;
  /**
   * Puts `keys` back as they are in `backup` (from `backup()`): the backup's exact bytes where nothing else changed
   * since, otherwise only those keys. Idempotent: a resume may call it again after a crash.
   */
  restore(backup: Buffer, keys: readonly string[]): Promise<void>;
  /**
   * Every place that holds the values, each read on its own (each env file; the Secret and its source), for drift
   * detection: a place that went back is named. Absent: `read()` is the one place.
   */
  places?(): Promise<{ where: string; values: Readonly<Record<string, string>> }[]>;
}

export interface TargetSnapshot {
  values: Readonly<Record<string, string>>;
  /** Opaque: a digest of each file's bytes, or the Secret's `metadata.resourceVersion`. */
  version: string;
}

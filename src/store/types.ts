import type { JsonValue } from '../secrets/types.js';

/** A Rotation as it is kept: facts in clear, everything else sealed with the store's master key. */
export interface SealedRotation {
  facts: Record<string, JsonValue>;
  /** Keys changed by the write-env and retire steps (no values), for plans and resume. */
  envKeys: string[];
  sealed: string;
}

export type StepName = 'apply' | 'write-env' | 'restart' | 'verify' | 'retire' | 'write-retire-env' | 'verify-retired';

export interface JournalStep {
  name: StepName;
  state: 'started' | 'done';
  at: string;
}

/** Written before every side effect of a run; removed when the run ends cleanly. */
export interface Journal {
  runId: string;
  secret: string;
  kind: string;
  /** rotate: a new value; rollback: back to the previous value; retire: end of a grace period. */
  mode: 'rotate' | 'rollback' | 'retire';
  startedAt: string;
  host: string;
  pid: number;
  emergency: boolean;
  rotation: SealedRotation;
  /** Id of the encrypted backup of the env file taken before the write-env step. */
  envBackup?: string;
  steps: JournalStep[];
  /** Set when a rollback failed: what a person must look at. */
  needsPerson?: string;
}

export interface SecretState {
  lastRotatedAt?: string;
  lastRunId?: string;
  /** The last completed rotation, kept for `rotate rollback` (cleared by a rollback: there is one step back). */
  last?: SealedRotation;
  /** Non-secret facts of the latest completed run, rotation or rollback (e.g. the Stripe account id). */
  facts?: Record<string, JsonValue>;
  /** A retirement waiting for the end of its grace period. */
  pendingRetire?: { after: string; runId: string };
  /** The last reminder `--due` posted for this secret (src/notify/reminders.ts): at most one a day. */
  reminded?: { at: string; event: string };
}

export type HistoryResult =
  | 'rotated'
  | 'rolled-back'
  | 'rollback-failed'
  | 'retired'
  | 'failed'
  | 'restored'
  | 'skipped'
  /** `rotate mark`: a rotation done outside rotate, recorded by an operator. */
  | 'marked';

export interface HistoryEntry {
  at: string;
  runId: string;
  secret: string;
  kind: string;
  action: 'rotate' | 'rollback' | 'retire' | 'resume' | 'mark';
  result: HistoryResult;
  actor: string;
  emergency?: boolean;
  reason?: string;
  facts?: Record<string, JsonValue>;
  error?: { code: string; message: string };
  /** How long the run took, from its start to this record. */
  durationMs?: number;
  /** Keyed fingerprints (src/history/audit.ts) of the secret's value before and after the run; null when absent. */
  fingerprints?: { old: string | null; new: string | null };
  /** HMAC linking this record to the one before it (src/history/audit.ts); `rotate history --verify` checks it. */
  chain?: string;
}

/** A history record that cannot be read: where it is (the file and its line, or the table and its row id) and why. */
export interface DamagedRecord {
  file: string;
  line: number;
  error: string;
}

/** The history as far as it can be read: every good record, oldest first, and the damaged ones named. */
export interface HistoryReport {
  entries: HistoryEntry[];
  damaged: DamagedRecord[];
}

export interface Lock {
  release(): Promise<void>;
}

/** Where state, history, journals, backups and the lock live: `.rotate/` (file) or PostgreSQL tables. */
export interface Store {
  readonly location: string;
  acquireLock(command: string): Promise<Lock>;
  readStates(): Promise<Record<string, SecretState>>;
  writeState(secret: string, state: SecretState): Promise<void>;
  appendHistory(entry: HistoryEntry): Promise<void>;
  /** Every readable record, oldest first (damaged records are skipped: readHistoryReport names them). */
  readHistory(): Promise<HistoryEntry[]>;
  readHistoryReport(): Promise<HistoryReport>;
  readJournals(): Promise<Journal[]>;
  writeJournal(journal: Journal): Promise<void>;
  removeJournal(secret: string): Promise<void>;
  /** Keeps `data` encrypted; returns an id for getBackup. */
  putBackup(label: string, data: Buffer): Promise<string>;
  getBackup(id: string): Promise<Buffer>;
  seal(plaintext: string, purpose: string): Promise<string>;
  unseal(sealed: string, purpose: string): Promise<string>;
  /**
   * HMAC-SHA256 (64 hex characters) of `data` under a key derived from the master key for `purpose`. The same master
   * key gives the same MAC on every host, so it can compare values (fingerprints) or chain records without storing them.
   */
  mac(purpose: string, data: string): Promise<string>;
  close(): Promise<void>;
}

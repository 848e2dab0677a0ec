import type { JsonValue } from '../core-types.js';
import type { FleetStore } from './fleet.js';

/** A Rotation as it is kept: facts in clear, everything else sealed with the store's master key. */
export interface SealedRotation {
  facts: Record<string, JsonValue>;
  /** Keys changed by the write-target and retire steps (no values), for plans and resume. */
  envKeys: string[];
  sealed: string;
}

/**
 * A step's name as journaled: the engine's list of steps (src/engine/steps.ts) names them, a run's own steps (one
 * target write, one restart) and each secret's (apply, verify, retire). The store keeps them as they are.
 */
export type StepName = string;

export interface JournalStep {
  name: StepName;
  state: 'started' | 'done';
  at: string;
}

/** One secret of a run: its sealed rotation and the steps taken for it alone. */
export interface JournalSecret {
  secret: string;
  kind: string;
  rotation: SealedRotation;
  steps: JournalStep[];
  /**
   * The keyed fingerprint of the secret's main value before the run (never the value): a resumed run, which never
   * read the target as it was, records it as the history's old fingerprint.
   */
  oldFingerprint?: string | null;
  /**
   * Set just before the secret's recorded outcome is posted to notify.webhookUrl: a run killed after that may have
   * delivered it, so a resume does not post it again (never twice). Absent on an entry whose record exists: the kill
   * came before the post, and resume posts it.
   */
  noticeStarted?: true;
}

/**
 * Written before every side effect of a run; removed when the run ends cleanly. One journal covers the run's whole
 * set of secrets: `rotate resume` finishes or undoes the set together. Stored under its `runId`.
 */
export interface Journal {
  /** 2: one journal per run. Journals without it were written by rotate before sets (one per secret). */
  format: 2;
  runId: string;
  /** rotate: new values; rollback: back to the previous values; retire: end of a grace period. */
  mode: 'rotate' | 'rollback' | 'retire';
  startedAt: string;
  host: string;
  pid: number;
  emergency: boolean;
  /** `--no-restart`: the run writes the target and restarts nothing. */
  noRestart?: boolean;
  /** In the order they were applied (undone in reverse). A secret leaves the list once it is recorded. */
  secrets: JournalSecret[];
  /** Id of the sealed backup of the target (every env file's bytes, or the Secret's data) taken before a write. */
  targetBackup?: string;
  steps: JournalStep[];
  /** Set when a rollback failed: what a person must look at. */
  needsPerson?: string;
  /**
   * Git delivery (target.source.git): the source was pushed but the live Secret did not hold the new value in
   * target.source.convergeSeconds. Nothing retired; `rotate resume` waits again and goes forward.
   */
  notConverged?: string;
  /** The keyed fingerprint of the values published to the fleet (src/fleet/): what each host must acknowledge. */
  fleet?: { fingerprint: string };
}

/** A journal as rotate wrote it before runs covered sets (one per secret): resume refuses it, naming it. */
export interface LegacyJournal {
  runId: string;
  secret: string;
  mode: string;
  startedAt: string;
  host: string;
  pid: number;
  needsPerson?: string;
}

export type StoredJournal = Journal | LegacyJournal;

export const isLegacyJournal = (journal: StoredJournal): journal is LegacyJournal =>
  (journal as Journal).format !== 2 || !Array.isArray((journal as Journal).secrets);

/** The secrets a stored journal holds up, in either shape. */
export const journalSecretIds = (journal: StoredJournal): string[] =>
  isLegacyJournal(journal) ? [journal.secret] : journal.secrets.map((s) => s.secret);

/**
 * Who takes a store's lock: this process's id and host, handed in by the command layer from its deps (the store
 * itself reads nothing of the process). Others' LOCKED errors name them; the file store also tells a stale lock by
 * them (same host, process gone).
 */
export interface LockHolder {
  pid: number;
  host: string;
}

export interface SecretState {
  lastRotatedAt?: string;
  lastRunId?: string;
  /** The last completed rotation, kept for `rotate rollback` (cleared by a rollback: there is one step back). */
  last?: SealedRotation;
  /** Non-secret facts of the latest completed run, rotation or rollback (e.g. the Stripe account id). */
  facts?: Record<string, JsonValue>;
  /**
   * The last rotation ran with `--no-restart`: its value is written to the target and applied to no running process
   * yet. Cleared by a rotation or rollback that restarts, and by a `rotate verify` that passes.
   */
  unapplied?: { at: string; runId: string; services: string[] };
  /** A retirement waiting for the end of its grace period. */
  pendingRetire?: { after: string; runId: string };
  /** The last reminder `--due` posted for this secret (src/notify/reminders.ts): at most one a day. */
  reminded?: { at: string; event: string };
  /** The drift `--due` last posted (src/notify/drift-notice.ts): the fingerprints found, so each drift is posted once. */
  driftNotified?: { at: string; found: string };
}

export type HistoryResult =
  | 'rotated'
  /** `--no-restart`: written to the target, applied to no running process; the old value not retired. */
  | 'written'
  | 'rolled-back'
  | 'rollback-failed'
  | 'retired'
  /** `rotate verify` passed after a `--no-restart` rotation: the running services use the written value. */
  | 'verified'
  | 'failed'
  | 'restored'
  | 'skipped'
  /** `rotate mark`: a rotation done outside rotate, recorded by an operator. */
  | 'marked'
  /** Git delivery: pushed, but the live Secret did not hold the new value in time (the old value stays valid). */
  | 'not-converged';

export interface HistoryEntry {
  at: string;
  runId: string;
  secret: string;
  kind: string;
  action: 'rotate' | 'rollback' | 'retire' | 'resume' | 'mark' | 'verify';
  result: HistoryResult;
  actor: string;
  /** The config's `environment` (staging, production): the promotion gate reads other environments' runs by it. */
  environment?: string;
  emergency?: boolean;
  reason?: string;
  facts?: Record<string, JsonValue>;
  error?: { code: string; message: string };
  /** How long the run took, from its start to this record. */
  durationMs?: number;
  /** A resumed run's record: when the run it finished started (durationMs counts from the resume's own start). */
  runStartedAt?: string;
  /** Keyed fingerprints (src/history/audit.ts) of the secret's value before and after the run; null when absent. */
  fingerprints?: { old: string | null; new: string | null };
  /**
   * A rotation behind a promotion gate (src/policy/promotion.ts): the earlier run it rested on, or the gate it passed
   * closed with `--emergency`.
   */
  promotion?: { after: string; restsOn?: string; bypassed?: boolean };
  /** HMAC linking this record to the one before it (src/history/audit.ts); `rotate history --verify` checks it. */
  chain?: string;
}

/**
 * Where the history ends: the number of chained records and the last link, with an HMAC under a key derived from the
 * master key (src/history/audit.ts). Kept apart from the records (file: `history-head.json` beside `key-check.json`;
 * postgres: the `meta` table), it lets `history --verify` see records removed from the end or links stripped.
 */
export interface HistoryHead {
  seq: number;
  link: string;
  mac: string;
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

/**
 * A damaged journal cannot say how far its run got: the env file may hold a new value that was never verified, so
 * moving the journal aside alone would leave it there. The env file comes back from the backup taken before the run.
 */
export const damagedJournalHint = (location: string): string =>
  'the interrupted run cannot be resumed from it, and the env file may hold a value that was never verified: put back ' +
  'the env file from before the run with `rotate backups restore` (`rotate backups` lists the backups), check that the ' +
  `provider still takes that value (\`rotate verify\`), then move ${location} aside`;

/** Where state, history, journals, backups and the lock live: `.rotate/` (file) or PostgreSQL tables. */
export interface Store {
  readonly location: string;
  acquireLock(command: string): Promise<Lock>;
  readStates(): Promise<Record<string, SecretState>>;
  writeState(secret: string, state: SecretState): Promise<void>;
  /** Appends one record; with `head`, moves the history's head to it (postgres: in the same transaction). */
  appendHistory(entry: HistoryEntry, head?: HistoryHead): Promise<void>;
  /** The history's head as stored (unchecked: src/history/audit.ts checks its MAC); undefined when there is none. */
  readHistoryHead(): Promise<HistoryHead | undefined>;
  /** Every readable record, oldest first (damaged records are skipped: readHistoryReport names them). */
  readHistory(): Promise<HistoryEntry[]>;
  readHistoryReport(): Promise<HistoryReport>;
  /** Every journal left by an unfinished run, in either shape (see `isLegacyJournal`). */
  readJournals(): Promise<StoredJournal[]>;
  /** Stores the journal under its `runId`, replacing the previous version. */
  writeJournal(journal: Journal): Promise<void>;
  /** `key`: a journal's runId, or a legacy journal's secret id. */
  removeJournal(key: string): Promise<void>;
  /** Where the journal of `runId` is kept, for messages: its file, or its row of the journal table. */
  journalLocation(runId: string): string;
  /** Keeps `data` encrypted; returns an id for getBackup. */
  putBackup(label: string, data: Buffer): Promise<string>;
  getBackup(id: string): Promise<Buffer>;
  /** Ids of the backups kept, oldest first (`rotate backups`). */
  listBackups(): Promise<string[]>;
  seal(plaintext: string, purpose: string): Promise<string>;
  unseal(sealed: string, purpose: string): Promise<string>;
  /**
   * HMAC-SHA256 (64 hex characters) of `data` under a key derived from the master key for `purpose`. The same master
   * key gives the same MAC on every host, so it can compare values (fingerprints) or chain records without storing them.
   */
  mac(purpose: string, data: string): Promise<string>;
  /** Only the postgres store has a fleet (hosts running `rotate agent`, src/store/fleet.ts). */
  readonly fleet?: FleetStore;
  close(): Promise<void>;
}

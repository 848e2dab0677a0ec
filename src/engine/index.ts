/**
 * The engine's one door: the only engine module the commands import (test/unit/engine-door.test.ts holds them to
 * it). Each command parses its options, makes one call here and prints what it gets back.
 *
 * Cheap to import: the types are erased, and every function loads the module that does the work on its first call
 * (`rotate --help` and `rotate status` never load the pipeline, the run or a rotator).
 */
import type { RotatorContext } from '../secrets/types.js';
import type { HistoryEntry } from '../store/types.js';
import type { MarkRequest } from './mark.js';
import type { PendingRun } from './pending.js';
import type { RotateRequest, RunOutcome } from './rotate.js';
import type { Session } from './session.js';

export type { MarkRequest } from './mark.js';
export type { PendingRun } from './pending.js';
export type { ErrorInfo, SecretResult, SecretStatus } from './result.js';
export type { RotateRequest, RunOutcome } from './rotate.js';
export type { CommandOptions, CommandResult, EngineDeps, RunOptions, Session } from './session.js';
export type { StepReached } from './steps.js';

/** `rotate <secrets>`, `--due`, `--all`, with or without `--dry-run`. */
export const rotate = async (session: Session, request: RotateRequest): Promise<RunOutcome> =>
  (await import('./rotate.js')).rotate(session, request);

/** `rotate rollback <id>`. */
export const rollback = async (session: Session, id: string, confirm: RotateRequest['confirm']): Promise<RunOutcome> =>
  (await import('./rotate.js')).rollback(session, id, confirm);

/** `rotate resume`: every interrupted run finished or undone. */
export const resume = async (session: Session): Promise<RunOutcome> => (await import('./rotate.js')).resume(session);

/** `rotate verify [ids]`: the current values' checks; a passing `--no-restart` rotation recorded as applied. */
export const verify = async (session: Session, ids: string[]): Promise<RunOutcome> => (await import('./verify.js')).verify(session, ids);

/** `rotate mark`: a rotation done outside rotate, recorded. */
export const mark = async (session: Session, request: MarkRequest): Promise<HistoryEntry> =>
  (await import('./mark.js')).mark(session, request);

/** The runs left unfinished, for `rotate status`. */
export const pendingRuns = async (session: Session): Promise<{ count: number; of(secret: string): PendingRun | undefined }> =>
  (await import('./pending.js')).pendingRuns(session);

/** What a rotator of `id` sees now (`rotate setup`): its config, the target's values, the side effects. */
export const rotatorContext = async (session: Session, id: string): Promise<RotatorContext> => {
  const { buildContext } = await import('./context.js');
  return buildContext(session, id, undefined, await session.target.read());
};

import type { SecretConfig } from '../config/schema.js';
import type { Check } from '../core-types.js';
import type { HookPoint } from '../hooks/schema.js';
import type { EnvChanges, Rotation, Rotator, RotatorContext } from '../secrets/types.js';
import type { Journal, JournalSecret, StoredJournal } from '../store/types.js';
import { isLegacyJournal } from '../store/types.js';
import { checkCount, trace } from '../trace.js';
import { assertChecks, checksOf } from './checks.js';
import type { Session } from './session.js';

/**
 * The steps of a run, as data: the one list a run executes (`run.ts`), a dry run prints (`plan.ts`), a resume and a
 * stop read (what to do after a journal's last step, how to name it) and `rotate status` shows.
 *
 * Adding a step is one entry in `STEPS`, at its place in the order: its name (journaled, shown in plans and
 * results), whether it acts once for the run or once per secret, when it runs (from the run's shape, which a dry run
 * knows from the kinds and a real run from its rotations), how an undo reverses it, and whether a run that got past
 * it goes forward on resume. `act` does the work through the `StepRun` it is given; the engine journals the step
 * before and after `act`, checks for a stop request between steps and rolls the whole set back when `act` throws in
 * the change phase.
 */

/** One secret of a run as a step sees it. */
export interface StepMember {
  id: string;
  config: SecretConfig;
  rotator: Rotator;
  /** As the last step returned it (a step never changes the one it is given); journaled after each secret step. */
  rotation: Rotation;
  ctx: RotatorContext;
  /** Every check run for this secret so far (preflight, verification, retirement): the result lists them. */
  checks: Check[];
  entry: JournalSecret;
}

/** What a step may do to the world: the run's session and its few shared operations. */
export interface StepRun {
  readonly session: Session;
  readonly journal: Journal;
  /** Backs the target's content up (sealed) and journals the backup's id: what an undo restores. */
  backUpTarget(): Promise<void>;
  /** One write of the target with the merged changes; `sinceRead`: refuse if it changed since the run last read it. */
  write(changes: EnvChanges[], options?: { sinceRead?: boolean }): Promise<void>;
  /** Restarts each service of `members` once (nothing with `--no-restart`). */
  restart(members: readonly StepMember[]): Promise<void>;
  /** Runs the secret's hook at `point` (secrets.<id>.hooks), once its step is journaled as started. */
  hook(member: StepMember, point: HookPoint): Promise<void>;
  /** Publishes the values `members` want on every fleet host, sealed (with `retire`: their retire changes too). */
  publishFleet(members: readonly StepMember[], options?: { retire?: boolean }): Promise<void>;
  /**
   * Git delivery: waits until the live Secret holds the values the run pushed (a GitOps controller applied them),
   * up to target.source.convergeSeconds (SOURCE_NOT_CONVERGED otherwise: the run is parked, nothing retired).
   */
  converge(members: readonly StepMember[]): Promise<void>;
  /**
   * Waits until every registered host acknowledged the published values: a rotation's (FLEET_LAGGING otherwise) or,
   * with `retire`, the retire changes (FLEET_RETIRE_LAGGING otherwise).
   */
  waitForFleet(waitFor?: 'rotate' | 'retire'): Promise<void>;
  /** Whether a run step was journaled as started. */
  started(name: string): boolean;
}

/** What decides whether a step runs, for one secret: known to a dry run from the kind, to a run from its rotation. */
export interface SecretShape {
  /** It writes staging keys before apply (`Rotation.stageEnv`). */
  stages: boolean;
  /** Its old value is retired in this run: no grace period (or `--emergency`), or a retire run. */
  retiresNow: boolean;
  /** Retiring writes the target (`Rotation.retireEnv`). */
  writesOnRetire: boolean;
  /** The points of its configured hooks (secrets.<id>.hooks). */
  hooks: readonly HookPoint[];
}

export interface RunShape {
  mode: Journal['mode'];
  /** The config has `fleet`: the values go to every host running `rotate agent`, which must acknowledge them. */
  fleet: boolean;
  /** The target is delivered with git (target.source.git): a controller applies it, the run waits for it. */
  converges?: boolean;
  /** Services restart (not `--no-restart`): without it the run ends after the change phase, written, not applied. */
  restarts: boolean;
  secrets: readonly SecretShape[];
}

/** What an undo must do for a step that started: a set of reversals the engine performs in its one safe order. */
export interface Undo {
  /** Put the target back from its backup. */
  restoreTarget?: true;
  /** Each secret's `undoApply`. */
  undoApply?: true;
  /** Restart the services, so they read the old values again. */
  restart?: true;
}

interface StepBase {
  name: string;
  /**
   * `change`: before every secret verified; a failure (or a resume of a run stopped here) undoes the set.
   * `finish`: after; only the secrets that retire now take it, and a resume goes forward.
   */
  phase: 'change' | 'finish';
  undo: Undo;
  /** Done for every secret: a resume finishes the run instead of undoing it. */
  commits?: true;
}

export interface RunStep extends StepBase {
  scope: 'run';
  when(run: RunShape, retiring: readonly SecretShape[]): boolean;
  act(run: StepRun, members: readonly StepMember[]): Promise<void>;
}

export interface SecretStep extends StepBase {
  scope: 'secret';
  when(run: RunShape, secret: SecretShape): boolean;
  act(run: StepRun, member: StepMember): Promise<void>;
}

export type Step = RunStep | SecretStep;

const nonEmpty = (changes: EnvChanges | undefined): changes is EnvChanges => Object.keys(changes ?? {}).length > 0;

/**
 * A secret's hook as a step (src/hooks/run.ts). It changes nothing of rotate's, so an undo has nothing of its own to
 * reverse: the app's own undo is the `onRollback` hook, which `Run.undo` runs after the old value is back.
 */
const hookStep = (point: Exclude<HookPoint, 'onRollback'>, when: (run: RunShape) => boolean): SecretStep => ({
  name: `hook-${point}`,
  scope: 'secret',
  phase: 'change',
  undo: {},
  when: (run, s) => s.hooks.includes(point) && when(run),
  act: (run, m) => run.hook(m, point),
});

export const STEPS: readonly Step[] = [
  // After every check passed and the values are generated, before anything changes (a migration's preparation).
  hookStep('before', () => true),
  {
    // Keys the app does not read hold the new value before apply moves data to it (exchange-key's <env>_NEXT).
    // The backup taken here, from before any change, is the one an undo restores. No restart.
    name: 'write-stage',
    scope: 'run',
    phase: 'change',
    undo: { restoreTarget: true },
    when: (run) => run.secrets.some((s) => s.stages),
    async act(run, members) {
      await run.backUpTarget();
      await run.write(members.map((m) => m.rotation.stageEnv).filter(nonEmpty), { sinceRead: true });
    },
  },
  {
    // The provider-side change, keeping the old value valid where the provider allows.
    name: 'apply',
    scope: 'secret',
    phase: 'change',
    undo: { undoApply: true },
    when: () => true,
    async act(_run, m) {
      m.rotation = (await m.rotator.apply(m.ctx, m.rotation)) ?? m.rotation;
    },
  },
  {
    // One write of every secret's new values, after a backup (unless write-stage took the one to restore).
    name: 'write-target',
    scope: 'run',
    phase: 'change',
    undo: { restoreTarget: true, restart: true },
    when: () => true,
    async act(run, members) {
      if (!run.started('write-stage')) await run.backUpTarget();
      await run.write(
        members.map((m) => m.rotation.env),
        { sinceRead: true },
      );
    },
  },
  {
    // Git delivery: the write pushed the source; nothing restarts before the live Secret holds the new values. Not
    // converged in time parks the run (pushed, not converged: the old value stays valid); resume waits again.
    name: 'converge',
    scope: 'run',
    phase: 'change',
    undo: {},
    when: (run) => run.converges === true,
    act: (run, members) => run.converge(members),
  },
  {
    // The values, sealed, for every host running `rotate agent`: they apply them while this host restarts.
    name: 'fleet-publish',
    scope: 'run',
    phase: 'change',
    undo: {},
    when: (run) => run.fleet && run.restarts,
    act: (run, members) => run.publishFleet(members),
  },
  {
    name: 'restart',
    scope: 'run',
    phase: 'change',
    undo: { restart: true },
    when: (run) => run.restarts,
    act: (run, members) => run.restart(members),
  },
  // The new value is applied, written and running: the app's own step before verification (a data migration).
  hookStep('afterApply', (run) => run.restarts),
  {
    // Journaled as done only when every check passed: resume goes forward from here and only here.
    name: 'verify',
    scope: 'secret',
    phase: 'change',
    undo: {},
    commits: true,
    when: (run) => run.restarts,
    async act(_run, m) {
      const verified = await m.rotator.verify(m.ctx, m.rotation);
      const checks = checksOf(verified);
      if (!Array.isArray(verified)) m.rotation = verified.rotation;
      trace(`engine: verify ${m.id}: ${checkCount(checks)}`);
      m.checks = checks;
      assertChecks(checks, 'VERIFY_FAILED', `${m.id}: the new value did not pass verification`);
    },
  },
  // Proven, not yet retired: a failure still rolls back; a forward resume finishes it (Run.afterCommit).
  hookStep('afterVerify', (run) => run.restarts),
  {
    // Nothing retires before every host proved the new values: a host that lags parks the run (exit 3), old value valid.
    name: 'fleet-ack',
    scope: 'run',
    phase: 'change',
    undo: {},
    when: (run) => run.fleet && run.restarts,
    act: (run) => run.waitForFleet(),
  },
  {
    name: 'retire',
    scope: 'secret',
    phase: 'finish',
    undo: {},
    when: (_run, s) => s.retiresNow,
    async act(_run, m) {
      m.rotation = (await m.rotator.retire(m.ctx, m.rotation)) ?? m.rotation;
    },
  },
  {
    // The retire changes (JWT_SECRET_PREVIOUS removed), with a restart unless the app does not read those keys.
    name: 'write-retire-target',
    scope: 'run',
    phase: 'finish',
    undo: {},
    when: (_run, retiring) => retiring.some((s) => s.writesOnRetire),
    async act(run, members) {
      const withEnv = members.filter((m) => nonEmpty(m.rotation.retireEnv));
      await run.write(withEnv.map((m) => m.rotation.retireEnv ?? {}));
      await run.restart(withEnv.filter((m) => !m.rotation.retireWithoutRestart));
      // The fleet's hosts drop the retired keys too: published for their agents, awaited by fleet-ack-retire.
      if (run.session.config.fleet) await run.publishFleet(members, { retire: true });
    },
  },
  {
    // The retire changes published above, applied and acknowledged by every host's agent before the run reports them
    // retired: a host that lags parks the run (FLEET_RETIRE_LAGGING, exit 3, the hosts named); resume waits again.
    name: 'fleet-ack-retire',
    scope: 'run',
    phase: 'finish',
    undo: {},
    when: (run, retiring) => run.fleet && retiring.some((s) => s.writesOnRetire),
    act: (run) => run.waitForFleet('retire'),
  },
  {
    name: 'verify-retired',
    scope: 'secret',
    phase: 'finish',
    undo: {},
    when: (_run, s) => s.retiresNow,
    async act(_run, m) {
      const checks = await m.rotator.verifyRetired(m.ctx, m.rotation);
      m.checks = [...m.checks, ...checks];
      assertChecks(checks, 'RETIRE_VERIFY_FAILED', `${m.id}: the old value still works after retirement`);
    },
  },
];

/** The points a secret has hooks at, for its shape. */
export const hookPointsOf = (config: SecretConfig): HookPoint[] =>
  Object.entries(config.hooks ?? {}).flatMap(([point, hook]) => (hook ? [point as HookPoint] : []));

/** The steps of one phase, in order. */
export const stepsOf = (phase: Step['phase']): readonly Step[] => STEPS.filter((s) => s.phase === phase);

const stepNamed = (name: string): Step | undefined => STEPS.find((s) => s.name === name);

/** Whether a run reaches its finish phase: it restarts (or it is a retire run, which has no change phase). */
export const reachesFinish = (run: RunShape): boolean => run.mode === 'retire' || run.restarts;

/**
 * The steps a run journals for the secret at `index` of `run`, in order: the run's steps while the secret is part
 * of the run and its own. A dry run lists these; a real run's result lists what it did, which is the same.
 */
export function plannedSteps(run: RunShape, index: number): string[] {
  const secret = run.secrets[index]!;
  const retiring = run.secrets.filter((s) => s.retiresNow);
  const names: string[] = [];
  for (const step of STEPS) {
    if (step.phase === 'change' && run.mode === 'retire') continue;
    if (step.phase === 'finish' && (!reachesFinish(run) || !secret.retiresNow)) continue;
    const runs = step.scope === 'run' ? step.when(run, retiring) : step.when(run, secret);
    if (runs) names.push(step.name);
  }
  return names;
}

/**
 * Every step a run takes, in order, each once however many of its secrets it acts for: what "step N of M" counts.
 */
export function runSteps(run: RunShape): string[] {
  const taken = new Set(run.secrets.flatMap((_, index) => plannedSteps(run, index)));
  return STEPS.map((step) => step.name).filter((name) => taken.has(name));
}

/** What an undo of the journal's started steps must do: the union of those steps' reversals. */
export function undoOf(journal: Journal, secrets: readonly JournalSecret[] = journal.secrets): Undo & { undoApplyOf: JournalSecret[] } {
  const undo: Undo = {};
  const startedNames = new Set([...journal.steps.map((s) => s.name), ...secrets.flatMap((e) => e.steps.map((s) => s.name))]);
  for (const name of startedNames) Object.assign(undo, stepNamed(name)?.undo);
  const undoApplyOf = secrets.filter((e) => e.steps.some((s) => stepNamed(s.name)?.undo.undoApply));
  return { ...undo, undoApplyOf };
}

/** `rotate resume` finishes a run that has nothing to undo: a retire run, or one whose every secret committed. */
export function resumeFinishes(journal: Journal): boolean {
  if (journal.mode === 'retire') return true;
  return journal.secrets.every((e) => e.steps.some((s) => s.state === 'done' && stepNamed(s.name)?.commits));
}

/** The last step a journal names (the run's or, for `secret`, that secret's; any secret's without it). */
export function lastStep(
  journal: Journal,
  secret?: string,
): { name: string; state: 'started' | 'done'; at: string; of: string } | undefined {
  const entries = secret === undefined ? journal.secrets : journal.secrets.filter((e) => e.secret === secret);
  const steps = [
    ...journal.steps.map((s) => ({ ...s, of: 'run' })),
    ...entries.flatMap((e) => e.steps.map((s) => ({ ...s, of: e.secret }))),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return steps.at(-1);
}

/** How far a pending run got for one secret (`rotate status`): the last step journaled, and what resume does. */
export interface StepReached {
  step: string;
  state: 'started' | 'done';
  at: string;
  /**
   * `rotate resume` finishes a run whose every secret verified, waits again for one parked at `converge` (git
   * delivery: pushed, not converged) and goes on, and undoes any other.
   */
  resume: 'finish' | 'converge' | 'undo';
}

export function stepReached(journal: StoredJournal, secret: string): StepReached | null {
  if (isLegacyJournal(journal)) return null;
  const last = lastStep(journal, secret);
  if (!last) return null;
  const resume = resumeFinishes(journal) ? 'finish' : convergePending(journal) ? 'converge' : 'undo';
  return { step: last.name, state: last.state, at: last.at, resume };
}

/** A run parked at (or stopped in) `converge`: the source is pushed, the live Secret did not hold it yet. */
export function convergePending(journal: Journal): boolean {
  const steps = journal.steps.filter((s) => s.name === 'converge');
  return steps.length > 0 && !steps.some((s) => s.state === 'done');
}

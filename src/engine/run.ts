import type { SecretConfig } from '../config/schema.js';
import type { Check } from '../core-types.js';
import { RotateError } from '../errors.js';
import { type FleetEnv, fleetFingerprint, sealFleetEnv } from '../fleet/values.js';
import { type FleetWaitFor, waitForFleet } from '../fleet/wait.js';
import { fingerprint } from '../history/audit.js';
import { type HookValues, runHook } from '../hooks/run.js';
import type { HookPoint } from '../hooks/schema.js';
import { SecretValue } from '../secret-value.js';
import { envKeysOf, uncheckedOf } from '../secrets/index.js';
import type { EnvChanges, Rotation, Rotator, RotatorContext } from '../secrets/types.js';
import { restartServices } from '../services/restart.js';
import type { Desired, FleetStore } from '../store/fleet.js';
import { damagedJournalHint, type HistoryEntry, type Journal, type JournalSecret, type SecretState } from '../store/types.js';
import type { TargetSnapshot } from '../target/types.js';
import { duration } from '../terminal/progress.js';
import { checkCount, trace, traced } from '../trace.js';
import { assertChecks } from './checks.js';
import { buildContext, withSnapshot } from './context.js';
import { type RunInfo, record, type ValuesAround } from './record.js';
import { type ErrorInfo, errorInfo, rollbackFailed, type SecretResult, type SecretStatus } from './result.js';
import { revealEnv, sealRotation, unsealRotation } from './sealing.js';
import { type Session, secretConfig } from './session.js';
import {
  convergePending,
  hookPointsOf,
  type RunShape,
  resumeFinishes,
  runSteps,
  type Step,
  type StepMember,
  type StepRun,
  stepsOf,
  undoOf,
} from './steps.js';
import { stopNotice } from './stop.js';

/** A secret ready to join a run: checked, generated, not yet journaled. */
export interface Prepared {
  id: string;
  rotator: Rotator;
  rotation: Rotation;
  ctx: RotatorContext;
  checks: Check[];
}

/** One secret of a run. */
interface Member extends StepMember {
  /** Steps done for this secret, the run's shared steps included: what the result lists. */
  steps: string[];
}

/** How long a member's old value stays valid after this run (0: retired in this run). */
const graceHoursOf = (journal: Journal, config: SecretConfig): number =>
  journal.mode === 'rotate' && !journal.emergency ? config.graceHours : 0;

const unique = (names: string[]): string[] => [...new Set(names)];

/**
 * Where a secret with hooks keeps the value it replaces, sealed with its rotation: a resumed run never read the
 * target as it was, and its hooks still get ROTATE_OLD_VALUE. Its `rotate:` prefix keeps it beside the kind's own
 * secrets when the rotation is decoded (sealing.ts).
 */
const HOOK_OLD_VALUE = 'rotate:hook-old-value';

/** The name this host acknowledges under: its agent's (ROTATE_HOST, else the machine's host name). */
const selfName = (deps: Session['deps']): string => deps.environment.ROTATE_HOST || deps.host;

function fleetOf(store: Session['store']): FleetStore {
  if (store.fleet) return store.fleet;
  throw new RotateError('FLEET_NEEDS_POSTGRES', 'the config has `fleet`, but the store is not the shared postgres store', {
    hint: 'set store.type to postgres (with store.urlEnv) on every host of the fleet',
  });
}

/**
 * A run over a set of secrets: it executes the steps of `steps.ts` in order and journals before each side effect,
 * the run's own steps (one target write, one restart of each service) and each secret's (apply, verify, retire). A
 * run started here and one taken over from a journal by `rotate resume` behave the same.
 */
export class Run implements StepRun {
  private constructor(
    readonly session: Session,
    readonly journal: Journal,
    private readonly members: Member[],
    /** The target as last read or written. */
    private snapshot: TargetSnapshot,
    /** The target as the run found it (unknown to a resumed run): the old values for the history's fingerprints. */
    private readonly before?: TargetSnapshot,
    /** When the work began (the run's checks, for a run started here): what "elapsed" counts from. */
    private readonly since: Date = session.deps.now(),
  ) {}

  /** Journals the set (each rotation sealed) before any side effect; `since`: when its checks began. */
  static async start(
    session: Session,
    mode: Journal['mode'],
    prepared: Prepared[],
    snapshot: TargetSnapshot,
    since = session.deps.now(),
  ): Promise<Run> {
    const { deps, store, options } = session;
    const journal: Journal = {
      format: 2,
      runId: deps.randomUUID(),
      mode,
      startedAt: deps.now().toISOString(),
      host: deps.host,
      pid: deps.pid,
      emergency: options.emergency,
      ...(options.restart ? {} : { noRestart: true }),
      secrets: [],
      steps: [],
    };
    const members: Member[] = [];
    for (const p of prepared) {
      const config = secretConfig(session, p.id);
      const current = snapshot.values[envKeysOf(config)[0] ?? ''];
      const rotation =
        config.hooks && current !== undefined
          ? { ...p.rotation, secrets: { ...p.rotation.secrets, [HOOK_OLD_VALUE]: new SecretValue(current) } }
          : p.rotation;
      const entry: JournalSecret = {
        secret: p.id,
        kind: config.kind,
        rotation: await sealRotation(store, p.id, rotation),
        steps: [],
        oldFingerprint: await fingerprint(store, snapshot.values[envKeysOf(config)[0] ?? '']),
      };
      journal.secrets.push(entry);
      members.push({ ...p, rotation, config, entry, steps: [] });
    }
    await store.writeJournal(journal);
    return new Run(session, journal, members, snapshot, snapshot, since);
  }

  /** Takes over the journal of a run that stopped half-way (another process, or this one after a failure). */
  static async load(session: Session, journal: Journal): Promise<Run> {
    const snapshot = await session.target.read();
    const states: Record<string, SecretState> = await session.store.readStates();
    const members: Member[] = [];
    const location = session.store.journalLocation(journal.runId);
    const kept = { where: `the journal of run ${journal.runId} (${location})`, hint: damagedJournalHint(location) };
    for (const entry of journal.secrets) {
      const config = secretConfig(session, entry.secret);
      const rotator = await session.deps.loadRotator(config.kind);
      members.push({
        id: entry.secret,
        config,
        rotator,
        rotation: await unsealRotation(session.store, entry.secret, entry.rotation, rotator.journaled, kept),
        ctx: buildContext(session, entry.secret, states[entry.secret], snapshot),
        checks: [],
        entry,
        steps: [],
      });
    }
    return new Run(session, journal, members, snapshot);
  }

  /**
   * The run as its history records see it: a resumed run (no `before`: it never read the target as the run found it)
   * is timed from its own start, and names the start of the run it finishes beside it (runStartedAt).
   */
  #recordedRun(): RunInfo {
    if (this.before) return this.journal;
    return { ...this.journal, startedAt: this.since.toISOString(), runStartedAt: this.journal.startedAt };
  }

  /** Whether this run restarts services at all (`--no-restart`, or a resumed run that was started with it). */
  get restarts(): boolean {
    return this.session.options.restart && !this.journal.noRestart;
  }

  /** `--no-restart`: the new values are in the target and nowhere else; recorded as written, the old value kept. */
  async written(): Promise<SecretResult[]> {
    const states = await this.session.store.readStates();
    const results: SecretResult[] = [];
    for (const m of this.members) {
      const unapplied = { at: this.session.deps.now().toISOString(), runId: this.journal.runId, services: m.config.services };
      await this.session.store.writeState(m.id, { ...this.#nextState(m, states[m.id]), unapplied });
      results.push(await this.#recorded(m, 'written'));
    }
    await this.session.store.removeJournal(this.journal.runId);
    return results;
  }

  get ids(): string[] {
    return this.members.map((m) => m.id);
  }

  /** Every secret of the set has committed (passed verification): the run can only go forward. */
  get verified(): boolean {
    return resumeFinishes(this.journal);
  }

  /** The run's shape: what decides which steps run (the dry run builds the same from the kinds). */
  get shape(): RunShape {
    return {
      mode: this.journal.mode,
      restarts: this.restarts,
      secrets: this.members.map((m) => ({
        stages: Object.keys(m.rotation.stageEnv ?? {}).length > 0,
        retiresNow: graceHoursOf(this.journal, m.config) === 0,
        writesOnRetire: Object.keys(m.rotation.retireEnv ?? {}).length > 0,
        hooks: hookPointsOf(m.config),
      })),
      fleet: this.session.config.fleet !== undefined,
      ...(this.session.target.delivery ? { converges: true } : {}),
    };
  }

  /**
   * The change phase (steps.ts): every step before the secrets' values are proven, in order, `checkpoint` between
   * two steps (a stop request ends the run there). A step that throws leaves the rollback to the caller.
   */
  async change(checkpoint: () => void): Promise<void> {
    checkpoint(); // a stop requested while the run was being journaled: nothing has changed yet
    await this.#phase('change', this.members, checkpoint);
  }

  /**
   * A forward resume: the change steps after the commit point (an afterVerify hook) that had not finished for a
   * secret, in order. A step that throws leaves the rollback to the caller, as in the change phase.
   */
  async afterCommit(): Promise<void> {
    const steps = stepsOf('change');
    let commit = -1;
    steps.forEach((step, index) => {
      if (step.commits) commit = index;
    });
    const shape = this.shape;
    for (const step of steps.slice(commit + 1)) {
      if (step.scope === 'run') {
        const done = this.journal.steps.some((s) => s.name === step.name && s.state === 'done');
        if (
          !done &&
          step.when(
            shape,
            shape.secrets.filter((s) => s.retiresNow),
          )
        ) {
          this.#announce(step, this.members);
          await this.#runStep(step.name, this.members, () => step.act(this, this.members));
        }
        continue;
      }
      const taking = this.members.filter(
        (m) =>
          !m.entry.steps.some((s) => s.name === step.name && s.state === 'done') &&
          step.when(shape, shape.secrets[this.members.indexOf(m)]!),
      );
      if (taking.length > 0) this.#announce(step, taking);
      for (const m of taking) await this.#secretStep(m, step.name, () => step.act(this, m));
    }
  }

  /**
   * Runs the secret's hook at `point`; its step is journaled as started already. An earlier start with no done
   * means a run stopped while it ran, for an unknown part: it runs again only when marked idempotent, otherwise a
   * person decides (HOOK_INTERRUPTED, exit 3). Never repeated blindly.
   */
  async hook(m: StepMember, point: HookPoint): Promise<void> {
    const hook = m.config.hooks?.[point];
    if (!hook) return;
    const name = `hook-${point}`;
    const starts = m.entry.steps.filter((s) => s.name === name && s.state === 'started');
    const dones = m.entry.steps.filter((s) => s.name === name && s.state === 'done').length;
    if (starts.length > dones + 1 && !hook.idempotent) {
      throw new RotateError(
        'HOOK_INTERRUPTED',
        `hook ${point} of ${m.id} started at ${starts[0]!.at} and did not finish (the run stopped while it ran): rotate cannot know what it did`,
        {
          hint: `check what secrets.${m.id}.hooks.${point}.run did; if running it again is safe, set its "idempotent": true, or if it completed make it \`true\`, then run \`rotate resume\` again`,
        },
      );
    }
    const key = envKeysOf(m.config)[0] ?? '';
    const values: HookValues = { newValue: m.rotation.env[key] ?? undefined, oldValue: m.rotation.secrets[HOOK_OLD_VALUE] };
    await runHook(m.id, point, hook, values, this.session.configDir, this.session.deps);
  }

  async publishFleet(members: readonly StepMember[], options: { retire?: boolean } = {}): Promise<void> {
    const env: FleetEnv = Object.assign(
      {},
      ...members.flatMap((m) => [revealEnv(m.rotation.env), options.retire ? revealEnv(m.rotation.retireEnv ?? {}) : {}]),
    );
    await this.#publish(env, options.retire ? 'retire' : this.journal.mode);
  }

  async #publish(env: FleetEnv, mode: Desired['mode']): Promise<void> {
    const { store, deps } = this.session;
    const fleet = fleetOf(store);
    const fingerprint = await fleetFingerprint(store, env);
    // Each secret's keys, so a host holding one of them is given the others (JWT_SECRET_PREVIOUS in a grace period).
    const groups = Object.fromEntries(
      this.members.map((m) => [
        m.id,
        unique([...m.entry.rotation.envKeys, ...Object.keys(m.rotation.env), ...Object.keys(m.rotation.retireEnv ?? {})]),
      ]),
    );
    const sealed = await sealFleetEnv(store, this.journal.runId, env, groups);
    await fleet.publish({ runId: this.journal.runId, mode, fingerprint, secrets: this.ids, sealed, by: selfName(deps) });
    this.journal.fleet = { fingerprint };
    await store.writeJournal(this.journal);
    trace(`fleet: published ${Object.keys(env).length} keys of ${this.ids.join(', ')} (${mode}, fingerprint ${fingerprint})`);
  }

  /** Waits for every host's acknowledgement of the values published last (a rotation's, a rollback's, the retire changes). */
  async waitForFleet(waitFor: FleetWaitFor = 'rotate'): Promise<void> {
    const { store, deps, config } = this.session;
    const fleet = fleetOf(store);
    const fingerprint = this.journal.fleet?.fingerprint;
    if (!fingerprint) return;
    // This host applied, restarted and verified them itself (it may also be a registered host of its agent).
    await fleet.acknowledge({ host: selfName(deps), runId: this.journal.runId, fingerprint, result: 'ok', detail: null });
    await waitForFleet(fleet, this.journal.runId, fingerprint, config.fleet?.ackSeconds ?? 600, deps, waitFor);
  }

  /** After every secret verified: record the ones with a grace period, retire the others' old values now. */
  async finish(): Promise<SecretResult[]> {
    const { session, journal } = this;
    const now = session.deps.now();
    const results: SecretResult[] = [];
    const states = await session.store.readStates();
    const graceHours = (m: Member) => graceHoursOf(journal, m.config);
    for (const m of this.members.filter((m) => graceHours(m) > 0)) {
      const after = new Date(now.getTime() + graceHours(m) * 3_600_000).toISOString();
      await session.store.writeState(m.id, { ...this.#nextState(m, states[m.id]), pendingRetire: { after, runId: journal.runId } });
      results.push(await this.#recorded(m, 'grace', { graceUntil: after }));
    }
    const rest = this.members.filter((m) => graceHours(m) === 0);
    try {
      await this.#phase('finish', rest, () => {});
    } catch (error) {
      // The new values are in place and verified; only old ones may still work. Resume retries the retirement.
      const failed = rest.map((m) => this.#result(m, 'retire-failed', { error: errorInfo(error) }));
      return [...results, ...(await this.park('retiring the old value failed', failed))];
    }
    const status: SecretStatus = journal.mode === 'retire' ? 'retired' : journal.mode === 'rollback' ? 'restored' : 'rotated';
    for (const m of rest) {
      await session.store.writeState(m.id, this.#nextState(m, states[m.id]));
      results.push(await this.#recorded(m, status));
    }
    await session.store.removeJournal(journal.runId);
    return results;
  }

  /** Runs the steps of `phase` that apply to this run for `members`: a run step once, a secret step per secret. */
  async #phase(phase: Step['phase'], members: Member[], checkpoint: () => void): Promise<void> {
    const shape = this.shape;
    const shapeOf = (m: Member) => shape.secrets[this.members.indexOf(m)]!;
    const retiring = members.map(shapeOf).filter((s) => s.retiresNow);
    for (const step of stepsOf(phase)) {
      if (step.scope === 'run') {
        if (!step.when(shape, retiring)) continue;
        if (!(this.#resuming && this.#done(step.name))) this.#announce(step, members);
        await this.#runStep(step.name, members, () => step.act(this, members));
      } else {
        const taking = members.filter((m) => step.when(shape, shapeOf(m)));
        if (taking.length === 0) continue;
        const acting = taking.filter((m) => !(this.#resuming && this.#done(step.name, m)));
        if (acting.length > 0) this.#announce(step, acting);
        for (const m of taking) await this.#secretStep(m, step.name, () => step.act(this, m));
      }
      checkpoint();
    }
  }

  /**
   * Hosts of the fleet did not acknowledge the new values: nothing is undone or retired (every host may already run
   * the new value, and the old one still works); the run waits for a person and `rotate resume` waits again.
   */
  async fleetLagging(error: unknown): Promise<SecretResult[]> {
    const results = this.members.map((m) => this.#result(m, 'retire-failed', { error: errorInfo(error) }));
    return this.park('the fleet has not acknowledged the new values', results);
  }

  /** Undoes the whole set after a failure: every secret gets the same outcome (the set rotates together). */
  async rollBack(cause: unknown): Promise<SecretResult[]> {
    const reason = errorInfo(cause);
    this.session.deps.log.warn(`${this.ids.join(', ')}: ${reason.message}; rolling back`);
    try {
      await this.undo();
    } catch (error) {
      const why = errorInfo(error);
      // Rolled back here, not yet on every host of the fleet: that code, so a person sees which hosts and what to run.
      const info: ErrorInfo =
        why.code === 'FLEET_ROLLBACK_LAGGING'
          ? {
              code: why.code,
              message: `${reason.message}; rolling back is not finished: ${why.message}`,
              ...(why.hint ? { hint: why.hint } : {}),
            }
          : rollbackFailed(reason, why);
      return this.park(
        'the rotation and its rollback failed',
        this.members.map((m) => this.#result(m, 'rollback-failed', { error: info })),
      );
    }
    return this.#end(this.members.map((m) => this.#result(m, 'rolled-back', { error: reason })));
  }

  /** `rotate resume` of a run that had not verified: undo it, recorded as a resume. */
  async undoInterrupted(): Promise<SecretResult[]> {
    try {
      await this.undo();
    } catch (error) {
      const failed = this.members.map((m) => this.#result(m, 'rollback-failed', { error: errorInfo(error) }));
      return this.park('undoing the interrupted run failed', failed, 'resume');
    }
    return this.#end(
      this.members.map((m) => this.#result(m, 'undone')),
      'resume',
    );
  }

  /**
   * Undoes every step that started (each step says how in steps.ts), in one safe order: the target from its backup,
   * each secret's apply (last applied first), one restart; then proves every old value works again.
   *
   * A secret that staged its new value (exchange-key) is undone the way its forward path goes, because its data may
   * be under the new value: written by its apply and, once the services restarted onto it, by the app. The target gets
   * the old values back with that new value staged beside the old one, its undoApply puts the data back under the old
   * value, the services restart onto the old values (from then on nothing writes under the new one), its undoApply
   * sweeps again what the app wrote meanwhile, the checks prove nothing is left under the new value, and only then
   * does the staged key leave the target (no restart: the app does not read it).
   * Every step is safe to repeat: a resume after a kill anywhere in here starts the undo again from the top.
   */
  async undo(): Promise<void> {
    this.#undoing = true;
    try {
      await this.#undo();
    } finally {
      this.#undoing = false;
    }
  }

  async #undo(): Promise<void> {
    const { journal, session } = this;
    const undo = undoOf(journal);
    const applied = [...this.members].reverse().filter((m) => undo.undoApplyOf.includes(m.entry));
    const staged = this.#started('write-stage') ? applied.filter((m) => m.rotation.stageEnv) : [];
    const undoApply = (m: Member) => traced(`engine: rollback: undo apply ${m.id}`, () => m.rotator.undoApply(m.ctx, m.rotation));
    const backup = undo.restoreTarget && journal.targetBackup ? await session.store.getBackup(journal.targetBackup) : undefined;
    const keys = unique(this.members.flatMap((m) => m.entry.rotation.envKeys));
    if (backup) {
      // Staged first, then the rest back: at no moment does the target lack the new value or the old one.
      const stagedKeys = staged.flatMap((m) => Object.keys(m.rotation.stageEnv ?? {}));
      if (staged.length > 0) {
        await traced('engine: rollback: stage the new value beside the old one', () =>
          this.write(staged.map((m) => m.rotation.stageEnv ?? {})),
        );
      }
      const back = keys.filter((key) => !stagedKeys.includes(key));
      await traced('engine: rollback: restore the target', () => session.target.restore(backup, back));
    }
    this.#use(await session.target.read());
    // The staged secrets first, while the target holds both values; then the others, last applied first.
    for (const m of [...staged, ...applied.filter((m) => !staged.includes(m))]) await undoApply(m);
    if (undo.restart) {
      await traced('engine: rollback: restart', () => this.restart(this.members));
      this.#use(await session.target.read());
      // What the app wrote with the new value until its restart (the bulk went back above, so that it starts healthy).
      for (const m of staged) {
        await traced(`engine: rollback: sweep ${m.id}`, () => m.rotator.undoApply(m.ctx, m.rotation));
      }
    }
    this.#use(await session.target.read());
    for (const m of this.members) {
      m.checks = await traced(`engine: rollback: verify the old value of ${m.id}`, () => m.rotator.verifyCurrent(m.ctx), checkCount);
      assertChecks(m.checks, 'ROLLBACK_VERIFY_FAILED', `${m.id}: after the rollback the old value does not pass its checks`);
    }
    if (backup && staged.length > 0) {
      await traced('engine: rollback: remove the staged new value', () => session.target.restore(backup, keys));
      this.#use(await session.target.read());
    }
    // The fleet's hosts go back the same way: the values this host has again, published for their agents, and the
    // run waits until every agent applied them (FLEET_ROLLBACK_LAGGING otherwise). Journaled: a resume undoes again
    // from the top, publishes the same values (the same fingerprint, so acknowledgements already given count) and waits.
    if (this.#started('fleet-publish')) {
      const env = Object.fromEntries(keys.map((k) => [k, this.snapshot.values[k] ?? null]));
      await this.#runStep('fleet-rollback', this.members, async () => {
        await this.#publish(env, 'rollback');
        await this.waitForFleet('rollback');
      });
    }
    // The app's own undo, once the old value is back and proven (ROTATE_OLD_VALUE is the value in use again); not
    // when only a `before` hook ran, which changed nothing of rotate's.
    const changed = journal.steps.length > 0 || this.members.some((m) => m.entry.steps.some((s) => s.name !== 'hook-before'));
    if (!changed) return;
    for (const m of this.members.filter((m) => m.config.hooks?.onRollback)) {
      if (m.entry.steps.some((s) => s.name === 'hook-onRollback' && s.state === 'done')) continue;
      await this.#secretStep(m, 'hook-onRollback', () => this.hook(m, 'onRollback'));
    }
  }

  /** Keeps the journal, marked with what a person must look at (`rotate status` shows it), and records the run. */
  async park(what: string, results: SecretResult[], action?: HistoryEntry['action']): Promise<SecretResult[]> {
    this.journal.needsPerson = `${what}: ${results[0]?.error?.message ?? 'unknown error'}`;
    await this.session.store.writeJournal(this.journal);
    for (const result of results) await record(this.session, this.#recordedRun(), result, action, this.#values(result.secret));
    return results;
  }

  /** After a rotation: the new `last`; after a rollback nothing is left to roll back to; a retirement ends the grace. */
  #nextState(m: Member, state: SecretState | undefined): SecretState {
    const { journal } = this;
    if (journal.mode === 'retire') {
      const { pendingRetire: _, ...rest } = state ?? {};
      return rest;
    }
    return {
      lastRotatedAt: this.session.deps.now().toISOString(),
      lastRunId: journal.runId,
      facts: m.rotation.facts,
      ...(journal.mode === 'rollback' ? {} : { last: m.entry.rotation }),
    };
  }

  async backUpTarget(): Promise<void> {
    const { store, target } = this.session;
    this.journal.targetBackup = await store.putBackup(this.ids.join('+'), await target.backup());
    await store.writeJournal(this.journal);
  }

  async write(changes: EnvChanges[], options: { sinceRead?: boolean } = {}): Promise<void> {
    const merged = Object.assign({}, ...changes.map((c) => revealEnv(c))) as Record<string, string | null>;
    const about = { runId: this.journal.runId, secrets: this.ids };
    this.#use(await this.session.target.write(merged, options.sinceRead ? this.snapshot : undefined, about));
  }

  async converge(members: readonly StepMember[]): Promise<void> {
    const { target, deps } = this.session;
    const delivery = target.delivery;
    if (!delivery) return;
    const values = Object.assign({}, ...members.map((m) => revealEnv(m.rotation.env))) as Record<string, string | null>;
    const deadline = deps.now().getTime() + delivery.convergeSeconds * 1000;
    let converged = await delivery.converged(values);
    if (!converged) deps.log.info(`waiting for the GitOps controller to apply the pushed source (up to ${delivery.convergeSeconds} s)`);
    while (!converged && deps.now().getTime() < deadline) {
      await deps.sleep(Math.min(2000, Math.max(1, deadline - deps.now().getTime())));
      converged = await delivery.converged(values);
    }
    if (converged) return;
    throw new RotateError(
      'SOURCE_NOT_CONVERGED',
      `pushed, not converged: ${target.description} did not hold the new value of ${Object.keys(values).join(', ')} within ${delivery.convergeSeconds}s; nothing was retired, the old value stays valid`,
      { hint: 'check that the GitOps controller synced the pushed commit, then run `rotate resume`: it waits again and continues' },
    );
  }

  /** Pushed, not converged: the run stays journaled (nothing undone, nothing retired) for `rotate resume`. */
  async notConverged(error: unknown): Promise<SecretResult[]> {
    const reason = errorInfo(error);
    this.journal.notConverged = reason.message;
    await this.session.store.writeJournal(this.journal);
    const results = this.members.map((m) => this.#result(m, 'not-converged', { error: reason }));
    for (const result of results) await record(this.session, this.#recordedRun(), result, undefined, this.#values(result.secret));
    return results;
  }

  /** Whether a resumed run was parked pushed, not converged (or stopped while waiting): it goes forward. */
  get converging(): boolean {
    return convergePending(this.journal);
  }

  /** `rotate resume` of a run parked at converge: the change phase again from converge (steps done are skipped). */
  async changeFromConverge(checkpoint: () => void): Promise<void> {
    this.#resuming = true;
    try {
      await this.#phase('change', this.members, checkpoint);
    } finally {
      this.#resuming = false;
    }
  }

  /** The one place services restart: each service of `members` once, in the config's order of the set. */
  async restart(members: readonly StepMember[]): Promise<void> {
    const { session } = this;
    if (!this.restarts) return;
    const names = unique(members.flatMap((m) => m.config.services));
    await restartServices(names, session.config, session.configDir, session.deps);
  }

  started(name: string): boolean {
    return this.#started(name);
  }

  /** The step under way, the secret a per-secret step acts for, and whether an undo is under way: for stopNotice. */
  #current: Step | undefined;
  #acting: Member | undefined;
  #undoing = false;

  /** What a stop request does now (engine/stop.ts): the line the first SIGINT/SIGTERM prints at once. */
  stopNotice(): string {
    const step = this.#current;
    const plan = runSteps(this.shape);
    const acting = step?.name === 'apply' ? this.#acting : undefined;
    const endsAt = acting?.rotator.stopsApplyAt?.(acting.ctx);
    return stopNotice({
      ...(step && {
        step: { name: step.name, number: plan.indexOf(step.name) + 1, of: plan.length, phase: step.phase, commits: step.commits === true },
      }),
      ...(endsAt && { endsAt }),
      committed: this.verified,
      // A resumed run that had not verified is undone from its start (no step of its own is under way).
      undoing: this.#undoing || (!step && !this.before && !this.verified && !this.converging),
    });
  }

  /**
   * `step 3 of 7: apply (12s elapsed)`, on stderr before a step acts (a log line: `--quiet` silences it; never on
   * stdout), the same on a terminal and off it. M counts every step the run takes, once however many secrets it acts
   * for (runSteps), so that a resumed run numbers its steps as the run it finishes did.
   */
  #announce(step: Step, members: readonly Member[]): void {
    this.#current = step;
    const plan = runSteps(this.shape);
    const of = step.scope === 'secret' && this.members.length > 1 ? ` of ${members.map((m) => m.id).join(', ')}` : '';
    const elapsed = duration(this.session.deps.now().getTime() - this.since.getTime());
    this.session.deps.log.info(`step ${plan.indexOf(step.name) + 1} of ${plan.length}: ${step.name}${of} (${elapsed} elapsed)`);
  }

  #use(snapshot: TargetSnapshot): void {
    this.snapshot = snapshot;
    for (const m of this.members) m.ctx = withSnapshot(this.session, m.ctx, snapshot);
  }

  #started(name: string): boolean {
    return this.journal.steps.some((s) => s.name === name);
  }

  /** A run step, journaled for the run; listed in the steps of `members` that are still part of the run. */
  /** A resume going forward: a step already journaled as done is not done again. */
  #resuming = false;

  #done(name: string, m?: Member): boolean {
    const steps = m ? m.entry.steps : this.journal.steps;
    return steps.some((s) => s.name === name && s.state === 'done');
  }

  async #runStep<T>(name: string, members: readonly Member[], action: () => Promise<T>): Promise<T | undefined> {
    if (this.#resuming && this.#done(name)) {
      for (const m of members) m.steps.push(name);
      return undefined;
    }
    const at = () => this.session.deps.now().toISOString();
    this.journal.steps.push({ name, state: 'started', at: at() });
    await this.session.store.writeJournal(this.journal);
    const value = await traced(`engine: ${name} (${this.ids.join(', ')})`, action);
    this.journal.steps.push({ name, state: 'done', at: at() });
    await this.session.store.writeJournal(this.journal);
    for (const m of members) m.steps.push(name);
    return value;
  }

  async #secretStep<T>(m: Member, name: string, action: () => Promise<T>): Promise<T | undefined> {
    if (this.#resuming && this.#done(name, m)) {
      m.steps.push(name);
      return undefined;
    }
    const { store } = this.session;
    const at = () => this.session.deps.now().toISOString();
    this.#acting = m;
    m.entry.steps.push({ name, state: 'started', at: at() });
    await store.writeJournal(this.journal);
    const value = await traced(`engine: ${name} ${m.id}`, action);
    // A step may return a rotation with what it learned (Stripe's apply, the new endpoint's signing secret): journal
    // it with the step's end, so that an undo in another process knows it.
    m.entry.rotation = await sealRotation(store, m.id, m.rotation);
    m.entry.steps.push({ name, state: 'done', at: at() });
    await store.writeJournal(this.journal);
    m.steps.push(name);
    return value;
  }

  #result(m: Member, status: SecretStatus, extra: Partial<SecretResult> = {}): SecretResult {
    const unchecked = ['rotated', 'grace', 'restored'].includes(status) ? uncheckedOf(m.config) : undefined;
    return {
      secret: m.id,
      kind: m.config.kind,
      runId: this.journal.runId,
      status,
      ...(status === 'written' ? { applied: false } : ['rotated', 'grace', 'restored'].includes(status) ? { applied: true } : {}),
      checks: m.checks,
      facts: m.rotation.facts,
      envKeys: m.entry.rotation.envKeys,
      steps: m.steps,
      ...(unchecked ? { unchecked } : {}),
      ...extra,
    };
  }

  /**
   * A secret whose outcome is final is recorded (and its notification posted), then leaves the journal: a kill in
   * between leaves a journal whose record exists, which resume clears, posting the notification the kill may have cut
   * off (never a finished run with no record, which resume could not see).
   */
  async #recorded(m: Member, status: SecretStatus, extra: Partial<SecretResult> = {}): Promise<SecretResult> {
    const result = this.#result(m, status, extra);
    await record(this.session, this.#recordedRun(), result, undefined, this.#values(result.secret), () => this.#noticeStarted(m.entry));
    this.journal.secrets = this.journal.secrets.filter((e) => e !== m.entry);
    await this.session.store.writeJournal(this.journal);
    return result;
  }

  /**
   * The records first, then the journal goes (see #recorded): each secret leaves the journal once its record is
   * written and its notification posted, so a resume posts only the notifications a kill cut off, never one twice.
   */
  async #end(results: SecretResult[], action?: HistoryEntry['action']): Promise<SecretResult[]> {
    for (const [i, result] of results.entries()) {
      const entry = this.journal.secrets.find((e) => e.secret === result.secret);
      await record(this.session, this.#recordedRun(), result, action, this.#values(result.secret), () => this.#noticeStarted(entry));
      if (i === results.length - 1) break; // the journal goes whole below
      this.journal.secrets = this.journal.secrets.filter((e) => e.secret !== result.secret);
      await this.session.store.writeJournal(this.journal);
    }
    await this.session.store.removeJournal(this.journal.runId);
    return results;
  }

  /** The record of `entry` is written and its notification about to be posted: a resume must not post it again. */
  async #noticeStarted(entry: JournalSecret | undefined): Promise<void> {
    if (!entry) return;
    entry.noticeStarted = true;
    await this.session.store.writeJournal(this.journal);
  }

  /** A secret's main value before the run and now, for the history's keyed fingerprints (never stored as such). */
  #values(id: string): ValuesAround {
    const member = this.members.find((m) => m.id === id);
    const key = member ? envKeysOf(member.config)[0] : undefined;
    if (!member || !key) return {};
    // A resumed run never read the target as it was: the journal kept the old value's fingerprint.
    if (!this.before) return { oldFingerprint: member.entry.oldFingerprint ?? null, new: this.snapshot.values[key] };
    return { old: this.before.values[key], new: this.snapshot.values[key] };
  }
}

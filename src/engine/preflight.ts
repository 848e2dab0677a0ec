import { type Check, check, type JsonValue } from '../core-types.js';
import { ERROR_CODES, type ErrorCode, ExitCode, RotateError } from '../errors.js';
import { promotionCheck } from '../policy/promotion-check.js';
import type { Preflight, Rotator, RotatorContext } from '../secrets/types.js';
import { preflightServices } from '../services/restart.js';
import { journalSecretIds, type StoredJournal } from '../store/types.js';
import { checkCount, traced } from '../trace.js';
import { failedChecks } from './checks.js';
import { keysOf } from './context.js';
import { copyChecks } from './copies.js';
import { errorInfo } from './result.js';
import { type Session, secretConfig } from './session.js';

/**
 * The one preflight: every read-only check a real run (`pipeline.ts`), a dry run (`plan.ts`) and `rotate verify`
 * (`verify.ts`) take, listed once in PREFLIGHT below; the mode picks the checks that apply to it. A dry run takes
 * exactly the checks of a real rotation, so what it reports as failing is what stops the run: a failing check whose
 * error code is registered with an exit other than 1 stops the run as that error, any other makes it PREFLIGHT_FAILED.
 */
export type PreflightMode = 'rotate' | 'rollback' | 'dry-run' | 'verify';

/** A secret as its checks see it from the `secret` stage on: its rotator and its context (the target as read). */
export interface PreflightSubject {
  id: string;
  rotator: Rotator;
  ctx: RotatorContext;
}

interface CheckDefinition {
  /** What it makes sure of, for traces and docs. */
  about: string;
  /** The runs that take it. */
  modes: readonly PreflightMode[];
  /**
   * The codes its failing checks carry and what a real run that stops on one says (without: `<id>: <name>
   * (<detail>); nothing was changed`, for a check whose code comes from elsewhere: a target's, a rotator's).
   */
  refusal?: { codes: readonly ErrorCode[]; message(failed: Check, id: string): string };
}

/** Read before anything changes (a pending retirement included): the checks that refuse a run outright. */
type GateCheck = CheckDefinition & { stage: 'gate' } & (
    | { set(session: Session, ids: readonly string[]): Promise<Check[]> }
    | { secret(session: Session, id: string): Promise<Check[]> }
  );

/** Read once the target is read for the rotation, with each secret's rotator and context. */
type SecretCheck = CheckDefinition & { stage: 'secret' } & (
    | { set(session: Session, ids: readonly string[]): Promise<Check[]> }
    | { secret(session: Session, subject: PreflightSubject, mode: PreflightMode): Promise<Preflight> }
  );

const RUNS: readonly PreflightMode[] = ['rotate', 'rollback', 'dry-run'];

/**
 * Every check, in the order a secret's result lists them. A new check is one entry here: the modes that take it, its
 * stage, and a function that reads (never writes) and returns checks; a failing one with an exit-2 or exit-3 code
 * stops a real run as that error, and the dry run reports it with that code. test/unit/preflight.test.ts holds the
 * dry run and the real run to the same failing checks.
 */
const PREFLIGHT: readonly (GateCheck | SecretCheck)[] = [
  {
    about: 'no interrupted run waits for `rotate resume`',
    modes: RUNS,
    stage: 'gate',
    set: async (session) => pendingRunChecks(await session.store.readJournals()),
    refusal: { codes: ['RUN_PENDING'], message: (failed) => `an earlier run did not finish: ${failed.detail}` },
  },
  {
    about: 'a service picks the new value up (no silent non-delivery)',
    modes: RUNS,
    stage: 'gate',
    secret: async (session, id) => somethingRestartsChecks(session, id),
    refusal: {
      codes: ['NO_RESTART'],
      message: (failed, id) => `nothing restarts the app after ${id} changes: ${failed.detail}; nothing was changed`,
    },
  },
  {
    about: 'the promotion gate is open (staging first)',
    modes: ['rotate', 'dry-run'],
    stage: 'gate',
    secret: async (session, id) => {
      const gate = gated(session, id) ? promotionCheck(session, id, await session.store.readHistory()) : undefined;
      return gate ? [gate] : [];
    },
    refusal: {
      codes: ['PROMOTION_GATE_CLOSED', 'PROMOTION_ENVIRONMENT_UNKNOWN'],
      message: (failed, id) => `${id}: ${failed.detail}; nothing was changed`,
    },
  },
  {
    about: "the target's own checks: it exists, rotate may write it, nobody else may (its warnings said)",
    modes: RUNS,
    stage: 'gate',
    set: targetChecks,
  },
  {
    about: "the rotator's: the current value works (verify: `verifyCurrent`; otherwise `preflight`, with its facts)",
    modes: [...RUNS, 'verify'],
    stage: 'secret',
    secret: (_session, { id, rotator, ctx }, mode) =>
      mode === 'verify'
        ? traced(
            `engine: verify the current value of ${id}`,
            async () => ({ checks: await rotator.verifyCurrent(ctx) }),
            (p) => checkCount(p.checks),
          )
        : traced(
            `engine: preflight ${id}`,
            () => rotator.preflight(ctx),
            (p) => checkCount(p.checks),
          ),
  },
  {
    about: 'no other key holds a copy of the value that the rotation would leave behind',
    modes: RUNS,
    stage: 'secret',
    secret: async (session, { id, ctx }) => ({ checks: copyChecks(session, id, ctx.env) }),
  },
  {
    about: 'the services the set restarts can restart (a restart command, a workload rotate may patch); unhealthy ones warned of',
    modes: RUNS,
    stage: 'secret',
    set: (session, ids) =>
      traced(
        `engine: preflight of the services (${ids.join(', ')})`,
        () => preflightServices(servicesOf(session, ids), session.config, session.deps),
        checkCount,
      ),
  },
];

/** What the checks of `mode` make sure of, in order (for docs and tests: a dry run's are a rotation's). */
export const preflightChecksOf = (mode: PreflightMode): string[] => PREFLIGHT.filter((d) => d.modes.includes(mode)).map((d) => d.about);

const applying = <S extends 'gate' | 'secret'>(stage: S, mode: PreflightMode) =>
  PREFLIGHT.filter((d): d is Extract<GateCheck | SecretCheck, { stage: S }> => d.stage === stage && d.modes.includes(mode));

/**
 * The `gate` stage for a set: each secret's checks, those of the set included. A real run takes them before anything
 * changes and stops on a refusal (`assertNoRefusal`); a dry run reports them.
 */
export async function preflightGate(session: Session, ids: readonly string[], mode: PreflightMode): Promise<Map<string, Check[]>> {
  const out = new Map(ids.map((id) => [id, [] as Check[]]));
  for (const definition of applying('gate', mode)) {
    if ('set' in definition) {
      const checks = await definition.set(session, ids);
      for (const id of ids) out.get(id)!.push(...checks);
    } else {
      for (const id of ids) out.get(id)!.push(...(await definition.secret(session, id)));
    }
  }
  return out;
}

/**
 * The `secret` stage for the secrets of a set, with their facts. A dry run reports a check that throws as a failed
 * check carrying the error's code (what the run would stop with); a run and `verify` let it throw.
 */
export async function preflightSecrets(
  session: Session,
  subjects: readonly PreflightSubject[],
  mode: PreflightMode,
): Promise<Map<string, { checks: Check[]; facts: Record<string, JsonValue> }>> {
  const ids = subjects.map((s) => s.id);
  const out = new Map(ids.map((id) => [id, { checks: [] as Check[], facts: {} as Record<string, JsonValue> }]));
  for (const definition of applying('secret', mode)) {
    if ('set' in definition) {
      const checks = await definition.set(session, ids);
      for (const id of ids) out.get(id)!.checks.push(...checks);
      continue;
    }
    for (const subject of subjects) {
      const found = out.get(subject.id)!;
      try {
        const preflight = await definition.secret(session, subject, mode);
        found.checks.push(...preflight.checks);
        Object.assign(found.facts, preflight.facts ?? {});
      } catch (error) {
        if (mode !== 'dry-run') throw error;
        found.checks.push(thrownCheck(error));
      }
    }
  }
  return out;
}

/** What a dry run reports for a check that threw: the error a real run stops with, as a failed check. */
export function thrownCheck(error: unknown): Check {
  const info = errorInfo(error);
  const code = info.code in ERROR_CODES ? (info.code as ErrorCode) : undefined;
  return { ...check('preflight-error', 'preflight', false, info.message, info.hint), ...(code ? { code } : {}) };
}

/**
 * A real run's stop: the first failing check whose code is registered with an exit other than 1 (bad usage or
 * config: a closed promotion gate, nothing restarts the app, a world-writable env file; a run pending: exit 3) stops
 * the run as that error, before anything changes. A dry run reports the same check as failed, with its code.
 */
export function assertNoRefusal(id: string, checks: readonly Check[]): void {
  for (const bad of failedChecks(checks)) {
    if (!bad.code || ERROR_CODES[bad.code].exit === ExitCode.failed) continue;
    const { code } = bad;
    const refusal = PREFLIGHT.find((d) => d.refusal?.codes.includes(code))?.refusal;
    const message = refusal ? refusal.message(bad, id) : `${id}: ${bad.name}${bad.detail ? ` (${bad.detail})` : ''}; nothing was changed`;
    throw new RotateError(bad.code, message, { ...(bad.hint ? { hint: bad.hint } : {}) });
  }
}

/** Refuses to start while an interrupted run waits for `rotate resume` (before consent is asked; mark, rollback). */
export async function assertNoPendingRun(session: Session): Promise<void> {
  assertNoRefusal('', pendingRunChecks(await session.store.readJournals()));
}

function pendingRunChecks(journals: readonly StoredJournal[]): Check[] {
  if (journals.length === 0) return [];
  const names = journals.map(
    (j) => `${journalSecretIds(j).join(', ')} (${j.mode} ${j.runId} from ${j.host}, ${j.needsPerson ?? 'interrupted'})`,
  );
  return [
    {
      ...check(
        'no-pending-run',
        'no interrupted run is pending',
        false,
        names.join('; '),
        'run `rotate status` to see it, then `rotate resume` to finish or undo it',
      ),
      code: 'RUN_PENDING',
    },
  ];
}

/** No silent non-delivery: a secret no configured service picks up fails, unless `--no-restart` says so. */
function somethingRestartsChecks(session: Session, id: string): Check[] {
  if (!session.options.restart || secretConfig(session, id).services.length > 0) return [];
  const where = session.configPath ?? 'the built-in defaults';
  const fix = `${nameAServiceFix(session, id)}; or pass --no-restart to write the new value without applying it to any running process`;
  return [
    {
      ...check('service-restarts-app', 'a service restarts the app', false, `secrets.${id}.services is empty in ${where}`, fix),
      code: 'NO_RESTART',
    },
  ];
}

/** Whether a promotion gate applies to the secret (the history is read only then). */
const gated = (session: Session, id: string): boolean => Boolean(session.config.secrets[id]?.promotion ?? session.config.promotion);

/** The target's checks for a set, with its warnings said on stderr (by a run and a dry run alike). */
async function targetChecks(session: Session, ids: readonly string[]): Promise<Check[]> {
  const { checks, warnings } = await session.target.preflight(keysOf(session, ids));
  for (const warning of warnings) session.deps.log.warn(warning);
  return checks;
}

/** The services a set restarts, each once, in the order the set names them. */
export const servicesOf = (session: Session, ids: readonly string[]): string[] =>
  session.options.restart ? [...new Set(ids.flatMap((id) => secretConfig(session, id).services))] : [];

/**
 * How to name the service that picks a secret up, in real config paths: a service the config already has, or a
 * starter one (`backend`) and `rotate init` when the built-in defaults are in use.
 */
export function nameAServiceFix(session: Session, id: string): string {
  const existing = Object.keys(session.config.services);
  if (existing.length > 0) {
    const has = existing.map((name) => `services.${name}`).join(', ');
    return `list the services that read it in secrets.${id}.services (the config has ${has}): "services": ["${existing[0]}"]`;
  }
  if (!session.configPath) {
    return `run \`rotate init\`: it writes rotate.config.json with services.backend listed in each secret's services; set its restart command and health URL`;
  }
  return `add services.backend to ${session.configPath} and list it in secrets.${id}.services: "services": { "backend": { "restart": "docker compose up -d --force-recreate backend" } }, and in secrets.${id}: "services": ["backend"]`;
}

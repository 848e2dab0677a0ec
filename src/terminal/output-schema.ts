import * as z from 'zod/mini';
import { CHECK_IDS } from '../check-ids.js';

/**
 * The one shape of every `--json` document (CONTRACT.md, Output): `schemaVersion`, `command`, `ok`, `exitCode`, the
 * command's list under `results`, and on failure `error`. A few commands add keys of their own beside the list.
 * scripts/write-schema.mjs turns this into schema/rotate.output.schema.json; test/e2e/json-output.test.ts checks
 * every command's output against it. Items are open (more keys may come); the document's own keys are not.
 */

const errorInfo = z.object({
  code: z.string().register(z.globalRegistry, { description: 'stable error code (docs/errors.md)' }),
  message: z.string().register(z.globalRegistry, { description: 'what is wrong and where; never a secret value' }),
  hint: z.optional(z.string().register(z.globalRegistry, { description: 'what to do' })),
});

const check = z.looseObject({
  id: z.enum(CHECK_IDS).register(z.globalRegistry, { description: 'stable check id (docs/checks.md); match on it, not on name' }),
  name: z.string().register(z.globalRegistry, { description: 'the check as a sentence for people; may name env keys and files' }),
  ok: z.boolean(),
  detail: z.optional(z.string()),
  hint: z.optional(z.string()),
});

/** One secret in a run: rotate, verify, rollback, resume. */
const secretResult = z.looseObject({
  secret: z.string(),
  kind: z.string(),
  status: z.enum([
    'rotated',
    'grace',
    'retired',
    'rolled-back',
    'rollback-failed',
    'retire-failed',
    'failed',
    'needs-operator',
    'skipped',
    'planned',
    'preflight-failed',
    'verified',
    'verify-failed',
    'restored',
    'undone',
    'written',
    'not-converged',
  ]),
  checks: z.array(check),
  facts: z.record(z.string(), z.unknown()),
  envKeys: z.array(z.string()),
  steps: z.array(z.string()),
  graceUntil: z.optional(z.string()),
  /** A value put in place that nothing checked in the running app (a JWT secret without verify.url): what was not. */
  unchecked: z.optional(z.string()),
  note: z.optional(z.string()),
  error: z.optional(errorInfo),
});

/** What `status` and `metrics --json` say a secret is: its schedule, unless it drifted or a place cannot be read. */
const reportedState = z.enum([
  'ok',
  'due',
  'never-rotated',
  'absent',
  'grace',
  'retire-due',
  'interrupted',
  'needs-person',
  'not-converged',
  'written',
  'future',
  'drifted',
  'unreadable',
]);

/** A place of the target that cannot be read (a missing source file): where, and the error with its fix. */
const unreadablePlace = z.looseObject({ where: z.string(), code: z.string(), message: z.string(), hint: z.optional(z.string()) });

const statusRow = z.looseObject({
  secret: z.string(),
  kind: z.string(),
  intervalDays: z.number(),
  state: reportedState.register(z.globalRegistry, {
    description:
      'drifted when a place no longer holds the value of the last recorded rotation, unreadable when a place of the target cannot be read, else scheduleState',
  }),
  /** The schedule's own state (due, grace, ...), also when `state` says drifted or unreadable. */
  scheduleState: z.optional(reportedState),
  lastRotatedAt: z.nullable(z.string()),
  nextDue: z.nullable(z.string()),
  graceUntil: z.nullable(z.string()),
  /** The places (env file, Secret, source) that no longer hold the value of the last recorded rotation. */
  drifted: z.optional(z.boolean()),
  drift: z.optional(z.nullable(z.looseObject({ where: z.array(z.string()), since: z.string() }))),
  /** Git delivery: pushed, not converged (the live Secret did not hold the new value in time). */
  notConverged: z.optional(z.boolean()),
  /** The places that could not be read (a missing source file), each with its fix: the others are still reported. */
  unreadable: z.optional(z.array(unreadablePlace)),
});

const historyEntry = z.looseObject({
  at: z.string(),
  runId: z.string(),
  secret: z.string(),
  kind: z.string(),
  action: z.string(),
  result: z.string(),
  actor: z.string(),
});

const envelope = {
  schemaVersion: z.literal(1),
  ok: z.boolean(),
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  error: z.optional(errorInfo),
};

const doc = <C extends string, I extends z.ZodMiniType, E extends Record<string, z.ZodMiniType>>(command: C, item: I, extra: E) =>
  z.strictObject({ ...envelope, command: z.literal(command), results: z.array(item), ...extra });

export const outputSchema = z.discriminatedUnion('command', [
  doc('rotate', secretResult, { dryRun: z.optional(z.boolean()) }),
  doc('verify', secretResult, {}),
  doc('rollback', secretResult, {}),
  doc('resume', secretResult, {}),
  doc('status', statusRow, {
    config: z.optional(z.nullable(z.string())),
    envFile: z.optional(z.string()),
    store: z.optional(z.string()),
    /** The hosts of the fleet (rotate agent), each up to date with the values published last or lagging, and why. */
    fleet: z.optional(
      z.array(z.looseObject({ host: z.string(), seenAt: z.string(), upToDate: z.boolean(), reason: z.optional(z.string()) })),
    ),
    /** Keys of the env file or Secret that look like credentials and that no secret manages (names only). */
    unmanaged: z.optional(z.array(z.string())),
    /** `status --check`: the monitoring verdict (exit 0, 1 or 3) and why. */
    check: z.optional(z.strictObject({ ok: z.boolean(), problems: z.array(z.string()) })),
  }),
  doc('history', historyEntry, {
    verified: z.optional(z.boolean()),
    /** Records that could not be read (file and line), skipped and named. */
    damaged: z.optional(z.array(z.looseObject({ file: z.string(), line: z.number() }))),
    records: z.optional(z.number()),
    unchained: z.optional(z.number()),
    broken: z.optional(z.looseObject({ position: z.number(), why: z.string() })),
    /** The history's head (sequence number and last link) the chain was checked against. */
    head: z.optional(z.strictObject({ seq: z.number(), link: z.string() })),
    /** --accept-no-head: a chained history without a head was checked without one (a chain begun before heads). */
    noHead: z.optional(z.boolean()),
    /** Records the head shows removed, links stripped, or the head itself deleted or edited. */
    missing: z.optional(z.string()),
    /** Secrets whose last run (in their state) has no record in the history. */
    runsWithoutRecord: z.optional(z.array(z.strictObject({ secret: z.string(), runId: z.string() }))),
  }),
  doc('mark', z.looseObject({ secret: z.string(), rotatedAt: z.string(), nextDue: z.string(), runId: z.string() }), {}),
  doc(
    'check',
    z.looseObject({
      id: z.string().register(z.globalRegistry, { description: 'stable finding id (docs/policy.md)' }),
      severity: z.enum(['error', 'warning']),
      secret: z.optional(z.string()),
      where: z.string(),
      message: z.string(),
      fix: z.string(),
    }),
    {},
  ),
  doc('leak', z.looseObject({ scanner: z.string(), rule: z.string(), file: z.nullable(z.string()), secrets: z.array(z.string()) }), {
    report: z.optional(z.string()),
    scanner: z.optional(z.nullable(z.string())),
    /** The matched secrets, their related ones, and both together (the set one --emergency run rotates). */
    plan: z.optional(z.strictObject({ matched: z.array(z.string()), related: z.array(z.string()), rotate: z.array(z.string()) })),
    /** Findings that match no managed secret (exit 1). */
    unmanaged: z.optional(z.number()),
    rotated: z.optional(z.boolean()),
    rotation: z.optional(z.array(secretResult)),
  }),
  doc(
    'metrics',
    z.looseObject({
      secret: z.string(),
      kind: z.string(),
      overdue: z.boolean(),
      needsPerson: z.boolean(),
      state: z.optional(reportedState),
    }),
    {
      fleet: z.optional(
        z.array(z.looseObject({ host: z.string(), seenAt: z.string(), upToDate: z.boolean(), reason: z.optional(z.string()) })),
      ),
    },
  ),
  doc('backups', z.looseObject({ id: z.string() }), {}),
  doc(
    'agent',
    z.looseObject({
      host: z.string(),
      status: z.enum(['idle', 'current', 'applied', 'failed', 'left', 'planned']),
      runId: z.optional(z.string()),
      /** The keyed fingerprint of the values acknowledged (never a value). */
      fingerprint: z.optional(z.string()),
      keys: z.optional(z.array(z.string())),
      services: z.optional(z.array(z.string())),
      error: z.optional(z.looseObject({ code: z.string(), message: z.string() })),
      /** Loop mode (no --once): the first pass that had this result, and how many passes in a row had it. */
      pass: z.optional(z.number()),
      passes: z.optional(z.number()),
    }),
    {},
  ),
  doc(
    'init',
    z.looseObject({
      path: z.string(),
      /** false with --dry-run: the config is in `config` instead. */
      written: z.boolean(),
      /** With --dry-run: the config init would write. */
      config: z.optional(z.looseObject({})),
      /** Where the values were read: the env file, or `Secret <namespace>/<name>` (--from-kubernetes). */
      source: z.optional(z.string()),
      /** From the env file and compose file, or the Secret and its workloads (absent when the starter was written). */
      decided: z.optional(z.array(z.string())),
      undecided: z.optional(z.array(z.looseObject({ path: z.string(), why: z.string() }))),
      unmanaged: z.optional(z.array(z.string())),
    }),
    {},
  ),
  doc('setup', z.looseObject({ secret: z.string(), applied: z.boolean(), sql: z.string() }), {}),
  doc('completion', z.looseObject({ shell: z.string(), script: z.string() }), {}),
  doc('version', z.looseObject({ version: z.string() }), {}),
  doc('help', z.looseObject({ command: z.string(), usage: z.string() }), {}),
]);

import type { CheckId } from '../../check-ids.js';
import { type Check, check } from '../../core-types.js';
import { describeError, RotateError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import { appAnswers } from '../app-check.js';
import { oldAndNew } from '../journaled.js';
import type { Rotation, Rotator, RotatorContext } from '../types.js';
import { exchangeKeyConsentCounts } from './consent-counts.js';
import { withClient } from './database.js';
import type { ExchangeKeyPlanFacts, ExchangeKeyRotationFacts, ExchangeKeySecretConfig } from './kind.js';
import { exchangeKeyStagingEnv } from './kind.js';
import { describeFailures, failedCount, keyCount, type TableOutcome, undecryptable, walkTables } from './table-walk.js';
import { countRows, describeTables } from './tables.js';

type Ctx = RotatorContext<ExchangeKeySecretConfig>;

/**
 * What the steps of a run proved or wrote in this process, carried in the rotation the engine hands from step to step
 * (never journaled: after a resume each step does the full work).
 */
interface Learned {
  /** The transaction ids of the UPDATEs of an apply made in this process (see PassOptions.skipXids). */
  appliedXids?: string[];
  /**
   * Verify's passing proof: it stands for retire's sweep when retire follows it in the same run (the services
   * restarted before verify's sweep: nothing writes with the old key since).
   */
  verified?: Check[];
  /** Retire's proof, for the verifyRetired after it. */
  retired?: Check[];
}

type ExchangeKeyRotation = Rotation<{ old: SecretValue; new: SecretValue }, Learned>;

/** Apply (decrypt + encrypt + write) measured at about this many times the read-only test-decrypt pass. */
const APPLY_TO_CHECK_RATIO = 3;

const currentValue = (ctx: Ctx): string | undefined => ctx.env[ctx.config.env] || undefined;

const rowsByTable = (outcomes: TableOutcome[]): Record<string, number> => Object.fromEntries(outcomes.map((o) => [o.table, o.rows]));

const total = (outcomes: TableOutcome[], field: 'rows' | 'values' | 'rewritten' | 'changedMeanwhile'): number =>
  outcomes.reduce((n, o) => n + o[field], 0);

/** Runs a verification; an error (database down) is a failing check rather than a crash. */
async function checked(id: CheckId, name: string, work: () => Promise<Check[]>): Promise<Check[]> {
  try {
    return await work();
  } catch (error) {
    return [check(id, name, false, describeError(error), error instanceof RotateError ? error.hint : undefined)];
  }
}

/**
 * What a sweep proved: it read every value and tried the new key then the old one, exactly as the proof does. Rows it
 * did not write are proven by that read; the rows it wrote (or found changed under it) are read back by the proof.
 */
interface SweepProof {
  outcomes: TableOutcome[];
  /** It left out the rows the apply of this process wrote and nobody changed since (they are under the new key). */
  skippedApplied: boolean;
  /** Per table, the keys of the rows to read back (often none). */
  readBack: Map<string, string[]>;
}

/**
 * Rewrites whatever the old app wrote with the old key since the re-encryption (it may run until its restart).
 * Returns a proof to stand for a full read, unless a value did not decrypt or too many rows were written to list.
 */
async function sweep(ctx: Ctx, rotation: ExchangeKeyRotation): Promise<SweepProof | undefined> {
  const appliedXids = rotation.learned?.appliedXids;
  const outcomes = await withClient(ctx, (client) =>
    walkTables(ctx, client, {
      keys: [rotation.secrets.new, rotation.secrets.old],
      target: 0,
      commitOnFailure: true,
      collectTouched: true,
      // After an apply in this process: the rows it wrote under the new key and nobody changed since need no read.
      skipXids: appliedXids,
    }),
  );
  const swept = total(outcomes, 'rewritten');
  if (swept > 0) ctx.deps.log.info(`re-encrypted ${swept} row(s) written with the old key since the rotation`);
  if (failedCount(outcomes) > 0 || outcomes.some((o) => o.touched === undefined)) return undefined;
  return {
    outcomes,
    skippedApplied: (appliedXids?.length ?? 0) > 0,
    readBack: new Map(outcomes.map((o) => [o.table, o.touched!])),
  };
}

/** The sweep's outcomes, with what the read-back found in the rows it wrote. */
function withReadBack(proof: SweepProof, readBack: TableOutcome[]): TableOutcome[] {
  return proof.outcomes.map((o) => {
    const back = readBack.find((r) => r.table === o.table);
    if (!back) return { ...o, byKey: [o.values, 0] };
    const underOld = back.byKey[1] ?? 0;
    return { ...o, byKey: [o.values - back.failedCount - underOld, underOld], failedCount: back.failedCount, failures: back.failures };
  });
}

/**
 * Every value decrypts under `envValue`, and (with `old`) none is still under the old key. `proof`: a sweep just made
 * with the same keys in the same order; only the rows it wrote are read again.
 */
async function proveAllUnder(ctx: Ctx, envValue: string, old?: SecretValue, proof?: SweepProof): Promise<Check[]> {
  const keys = old ? [envValue, old] : [envValue];
  const readBack = proof && [...proof.readBack.values()].some((k) => k.length > 0);
  const outcomes = proof
    ? withReadBack(
        proof,
        readBack ? await withClient(ctx, (client) => walkTables(ctx, client, { keys, target: -1, only: proof.readBack })) : [],
      )
    : await withClient(ctx, (client) => walkTables(ctx, client, { keys, target: -1 }));
  const underOld = old ? keyCount(outcomes, 1) : 0;
  const bad = failedCount(outcomes) + underOld;
  const checks = [
    check(
      'values-decrypt',
      `every value decrypts under ${ctx.config.env}`,
      bad === 0,
      bad === 0
        ? `${keyCount(outcomes, 0)} value(s) in ${total(outcomes, 'rows')} row(s)${proof?.skippedApplied ? ' read, besides the rows the re-encryption wrote and nobody changed since' : ''}`
        : `${bad} value(s) do not${failedCount(outcomes) > 0 ? `: ${describeFailures(outcomes)}` : ''}`,
      'run `rotate resume` if a rotation was interrupted; otherwise restore those rows from a backup',
    ),
  ];
  if (old)
    checks.push(
      check(
        'old-key-unused',
        '0 values remain under the old key',
        underOld === 0,
        `${underOld} value(s) under the old key`,
        'run `rotate resume`',
      ),
    );
  return checks;
}

/** The database alone cannot tell whether the running app loaded the new key: ask the app when configured. */
async function appDecrypts(ctx: Ctx): Promise<Check[]> {
  if (!ctx.config.verify) return [];
  return [
    await appAnswers(
      ctx,
      'app-decrypts',
      'the app decrypts the stored keys',
      ctx.config.verify.url,
      'the app did not load the new key: does its restart re-read the env file?',
    ),
  ];
}

export const exchangeKeyRotator: Rotator<ExchangeKeySecretConfig, ExchangeKeyRotation> = {
  kind: 'exchange-key',
  journaled: oldAndNew,

  consentCounts: exchangeKeyConsentCounts,

  async preflight(ctx) {
    const name = ctx.config.env;
    const current = currentValue(ctx);
    if (!current)
      return {
        checks: [
          check('env-key-present', `${name} is set`, false, `not found in ${ctx.location}`, `add ${name}=<current key> to the env file`),
        ],
      };
    const checks: Check[] = [check('env-key-present', `${name} is set`, true)];
    const reachable = `database in ${ctx.config.databaseUrlEnv} is reachable`;
    let connected = false;
    try {
      return await withClient(ctx, async (client) => {
        connected = true;
        checks.push(check('database-reachable', reachable, true));
        const described = await describeTables(client, ctx.config);
        checks.push(...described.checks);
        if (described.checks.some((c) => !c.ok)) return { checks };
        const started = ctx.deps.now().getTime();
        const outcomes = await walkTables(ctx, client, { keys: [current], target: -1, label: 'test-decrypting' });
        const seconds = (ctx.deps.now().getTime() - started) / 1000;
        const failed = failedCount(outcomes);
        checks.push(
          check(
            'values-decrypt',
            `every value decrypts under the current ${name}`,
            failed === 0,
            failed === 0
              ? `${total(outcomes, 'values')} value(s) in ${total(outcomes, 'rows')} row(s)`
              : `${failed} value(s) do not: ${describeFailures(outcomes)}`,
            'the app cannot read these rows either: repair or delete them, then rotate; nothing was changed',
          ),
        );
        return {
          checks,
          facts: {
            rowsByTable: rowsByTable(outcomes),
            rows: total(outcomes, 'rows'),
            values: total(outcomes, 'values'),
            undecryptable: failed,
            estimatedSeconds: Math.ceil(seconds * APPLY_TO_CHECK_RATIO),
          } satisfies ExchangeKeyPlanFacts,
        };
      });
    } catch (error) {
      const hint = error instanceof RotateError ? error.hint : undefined;
      checks.push(
        check(
          connected ? 'tables-readable' : 'database-reachable',
          connected ? 'the encrypted tables can be read' : reachable,
          false,
          describeError(error),
          hint,
        ),
      );
      return { checks };
    }
  },

  async generate(ctx, restore) {
    const current = currentValue(ctx);
    if (!current)
      throw new RotateError('EXCHANGE_KEY_MISSING', `${ctx.config.env} is not set in ${ctx.location}`, {
        hint: `add ${ctx.config.env} to the env file`,
      });
    // 32 random bytes as base64url: 43 characters, no quoting needed, above the platform's 32-character minimum.
    const next = restore ? restore.secrets.old : new SecretValue(ctx.deps.randomBytes(32).toString('base64url'));
    const counts = await withClient(ctx, async (client) => {
      const { tables } = await describeTables(client, ctx.config);
      return Object.fromEntries(await Promise.all(tables.map(async (t) => [t.name, await countRows(client, t)] as const)));
    });
    const old = new SecretValue(current);
    const staging = exchangeKeyStagingEnv(ctx.config);
    // Every row is under the old or the new key from the first batch on, and the target holds both until no value is
    // under the old one: the new key staged before apply, the old one kept from the env write until retire's proof.
    return {
      stageEnv: { [staging.next]: next },
      env: { [ctx.config.env]: next, [staging.next]: null, [staging.previous]: old },
      retireEnv: { [staging.previous]: null },
      retireWithoutRestart: true,
      secrets: { old, new: next },
      facts: { rowsByTable: counts, rows: Object.values(counts).reduce((a, b) => a + b, 0) } satisfies ExchangeKeyRotationFacts,
    };
  },

  async apply(ctx, rotation) {
    const outcomes = await withClient(ctx, (client) =>
      walkTables(ctx, client, {
        keys: [rotation.secrets.old, rotation.secrets.new],
        target: 1,
        label: 're-encrypting',
        stopOnFailure: true,
        stoppable: true,
      }),
    );
    const how = ctx.config.commit === 'once' ? 'in one transaction' : `in batches of ${ctx.config.batchSize}, each committed`;
    ctx.deps.log.info(`re-encrypted ${total(outcomes, 'rewritten')} row(s) (${total(outcomes, 'values')} value(s)) ${how}`);
    const meanwhile = total(outcomes, 'changedMeanwhile');
    if (meanwhile > 0) ctx.deps.log.info(`${meanwhile} row(s) changed by the app meanwhile; verify re-encrypts them`);
    const appliedXids = [...(rotation.learned?.appliedXids ?? []), ...outcomes.flatMap((o) => o.xids)];
    return { ...rotation, learned: { ...rotation.learned, appliedXids } };
  },

  stopsApplyAt: (ctx) =>
    ctx.config.commit === 'per-batch'
      ? 'after the batch being re-encrypted (the batches before it stay committed, every row readable with the keys in the env file)'
      : 'at the next batch, rolling back the re-encryption (one transaction: no row changes)',

  async undoApply(ctx, rotation) {
    const outcomes = await withClient(ctx, (client) =>
      walkTables(ctx, client, {
        keys: [rotation.secrets.new, rotation.secrets.old],
        target: 1,
        label: 'restoring',
        commitOnFailure: true,
      }),
    );
    ctx.deps.log.info(`put ${total(outcomes, 'rewritten')} row(s) back under the old key`);
    if (failedCount(outcomes) > 0) {
      throw undecryptable(outcomes, 'under the old or the new key', 'every other row is back under the old key');
    }
  },

  /** With a passing proof, the rotation retire gets carries it (`Learned.verified`). */
  async verify(ctx, rotation) {
    let verified: Check[] | undefined;
    const checks = await checked('values-decrypt', `every value decrypts under ${ctx.config.env}`, async () => {
      const envValue = currentValue(ctx);
      const holdsNew = envValue !== undefined && rotation.secrets.new.reveal() === envValue;
      if (!holdsNew)
        return [check('env-key-holds-new', `${ctx.config.env} in the env file is the new key`, false, undefined, 'run `rotate resume`')];
      const proof = await sweep(ctx, rotation);
      const proven = await proveAllUnder(ctx, envValue, rotation.secrets.old, proof);
      if (proven.every((c) => c.ok)) verified = proven;
      return [...proven, ...(await appDecrypts(ctx))];
    });
    return { checks, rotation: { ...rotation, learned: { ...rotation.learned, verified } } };
  },

  /**
   * The old key leaves the target (retireEnv) only after this: a sweep, then the proof that no value is under the old
   * key. Right after a passing verify in the same run, that verify's sweep and proof stand for them.
   */
  async retire(ctx, rotation) {
    let proven = rotation.learned?.verified;
    if (!proven) {
      const proof = await sweep(ctx, rotation);
      proven = await proveAllUnder(ctx, rotation.secrets.new.reveal(), rotation.secrets.old, proof);
    }
    const bad = proven.filter((c) => !c.ok);
    if (bad.length > 0) {
      const previous = exchangeKeyStagingEnv(ctx.config).previous;
      throw new RotateError(
        'EXCHANGE_KEY_OLD_VALUES',
        `values are still under the old key (${bad.map((c) => c.detail ?? c.name).join('; ')}): ${previous} keeps the old key in ${ctx.location}`,
        { hint: 'restart whatever still writes with the old key, then run `rotate resume`' },
      );
    }
    return { ...rotation, learned: { ...rotation.learned, verified: undefined, retired: proven } };
  },

  verifyRetired: (ctx, rotation) =>
    checked('old-key-unused', '0 values remain under the old key', async () => {
      const proven = rotation.learned?.retired;
      return proven ?? proveAllUnder(ctx, rotation.secrets.new.reveal(), rotation.secrets.old);
    }),

  verifyCurrent: (ctx) =>
    checked('values-decrypt', `every value decrypts under ${ctx.config.env}`, async () => {
      const envValue = currentValue(ctx);
      if (!envValue) return [check('env-key-present', `${ctx.config.env} is set`, false, `not found in ${ctx.location}`)];
      return [...(await proveAllUnder(ctx, envValue)), ...(await appDecrypts(ctx))];
    }),
};

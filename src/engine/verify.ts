import { envKeysOf, uncheckedOf } from '../secrets/index.js';
import type { SecretState } from '../store/types.js';
import { buildContext, keysOf } from './context.js';
import { withLock } from './lock.js';
import { retireSet } from './pipeline.js';
import { preflightSecrets } from './preflight.js';
import { record } from './record.js';
import { errorInfo, exitCodeOf, type SecretResult } from './result.js';
import type { RunOutcome } from './rotate.js';
import { type Session, secretConfig } from './session.js';

/**
 * `rotate verify`: each secret's checks against the values the target holds now; changes nothing, except that a
 * rotation written with `--no-restart` whose checks pass is recorded as applied. `ids` empty: every secret present.
 */
export async function verify(session: Session, ids: string[]): Promise<RunOutcome> {
  const named = ids.length > 0;
  const chosen = named ? ids : Object.keys(session.config.secrets);
  const [states, history] = await Promise.all([session.store.readStates(), session.store.readHistory()]);
  const lastFailed = new Set(
    chosen.filter((id) =>
      ['failed', 'rolled-back', 'rollback-failed'].includes(history.filter((e) => e.secret === id).at(-1)?.result ?? ''),
    ),
  );
  const results: SecretResult[] = [];
  // Several env files must agree on what is verified (exit 2 otherwise, as for a rotation).
  const snapshot = await session.target.read(keysOf(session, chosen));
  for (const id of chosen) {
    const config = secretConfig(session, id);
    const base = { secret: id, kind: config.kind, envKeys: envKeysOf(config), facts: {}, steps: [] };
    try {
      const ctx = buildContext(session, id, states[id], snapshot);
      if (!named && !(envKeysOf(config)[0]! in ctx.env)) {
        results.push({ ...base, status: 'skipped', checks: [], note: `not in ${session.target.description}` });
        continue;
      }
      const rotator = await session.deps.loadRotator(config.kind);
      // The checks of the one preflight (preflight.ts) that apply to `verify`: the rotator's `verifyCurrent`.
      const { checks } = (await preflightSecrets(session, [{ id, rotator, ctx }], 'verify')).get(id)!;
      const ok = checks.every((c) => c.ok);
      // What these checks could not see in the running app (a JWT secret without verify.url): never plain "verified".
      const unchecked = ok ? uncheckedOf(config) : undefined;
      results.push({ ...base, status: ok ? 'verified' : 'verify-failed', checks, ...(unchecked ? { unchecked } : {}) });
    } catch (error) {
      results.push({ ...base, status: 'verify-failed', checks: [], error: errorInfo(error) });
    }
  }
  await recordApplied(session, results, states, lastFailed, (id) => snapshot.values[envKeysOf(secretConfig(session, id))[0]!]);
  return { results, code: exitCodeOf(results) };
}

/**
 * A rotation written with `--no-restart` is applied once its checks pass against the running services: the state
 * forgets it was unapplied and the history records the verification (status and metrics read both). A secret whose
 * last run failed (rolled back, or failed and then resumed) is also recorded when its current value passes: the
 * history's newest record then says it works, so `status` and `status --check` stop reporting the failure. Under the
 * lock, like every writer of the history; a lock held by a running rotation leaves it for the next `rotate verify`.
 */
async function recordApplied(
  session: Session,
  results: SecretResult[],
  read: Record<string, SecretState>,
  lastFailed: ReadonlySet<string>,
  current: (id: string) => string | undefined,
): Promise<void> {
  // The states verify read decide whether the lock is needed at all; under it they are read again.
  const passed = results.filter((r) => r.status === 'verified' && (read[r.secret]?.unapplied || lastFailed.has(r.secret)));
  if (passed.length === 0) return;
  try {
    await withLock(session, 'verify', async () => {
      const states = await session.store.readStates();
      const now = session.deps.now();
      const startedAt = now.toISOString();
      const retireNow: string[] = [];
      for (const result of passed) {
        const state = states[result.secret];
        if (!state?.unapplied) {
          if (!lastFailed.has(result.secret)) continue;
          const run = { runId: session.deps.randomUUID(), startedAt, mode: 'rotate' as const, emergency: false };
          await record(session, run, { ...result, runId: run.runId }, 'verify', { new: current(result.secret) });
          result.note = 'recorded: the current value passed rotate verify after the last run failed; status no longer reports that run';
          continue;
        }
        const { unapplied: _, ...applied } = state;
        // Applied, so the old value's overlap ends as after any rotation: at once, or after graceHours (--due).
        const graceHours = secretConfig(session, result.secret).graceHours;
        const pendingRetire = applied.last
          ? { after: new Date(now.getTime() + graceHours * 3_600_000).toISOString(), runId: state.unapplied.runId }
          : undefined;
        await session.store.writeState(result.secret, { ...applied, ...(pendingRetire ? { pendingRetire } : {}) });
        if (pendingRetire && graceHours === 0) retireNow.push(result.secret);
        else if (pendingRetire) result.graceUntil = pendingRetire.after;
        const run = { runId: session.deps.randomUUID(), startedAt, mode: 'rotate' as const, emergency: false };
        // The history's fingerprint of the value the services now run with: the written record's new one.
        await record(session, run, { ...result, runId: run.runId }, 'verify', { new: current(result.secret) });
        result.note =
          `recorded as applied: the written value passed rotate verify's checks; rotate restarted nothing, so this ` +
          `relies on ${state.unapplied.services.join(', ') || 'its services'} having been restarted since (a verify URL is what proves the running app uses it)` +
          (pendingRetire && graceHours > 0 ? `; its old value is retired by the first \`rotate --due\` after ${pendingRetire.after}` : '');
      }
      // graceHours 0: retired now and the old value proven refused, as a rotation does (a run of its own, journaled);
      // while another run waits for `rotate resume`, the first `rotate --due` after it does it instead.
      if (retireNow.length > 0 && (await session.store.readJournals()).length === 0) results.push(...(await retireSet(session, retireNow)));
    });
  } catch (error) {
    if ((error as { code?: string }).code !== 'LOCKED') throw error;
    session.deps.log.warn(`another run holds the lock: run \`rotate verify\` again to record that the written value is applied`);
  }
}

import { Command } from 'commander';
import * as z from 'zod/mini';
import { ExitCode } from '../errors.js';
import { lazy } from '../lazy.js';
import { table } from '../terminal/render.js';
import { localTime } from '../terminal/time.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { withSession } from './session.js';

const STATE_TEXT: Record<string, string> = {
  ok: 'ok',
  due: 'due',
  'never-rotated': 'never rotated by rotate (due)',
  absent: 'not in env file',
  grace: 'grace period',
  'retire-due': 'grace over: retire with rotate --due',
  interrupted: 'interrupted: run rotate resume',
  'needs-person': 'needs a person: see below, then rotate resume',
  'not-converged': 'pushed, not converged: check the GitOps controller, then rotate resume',
  written: 'written, not applied: see below',
  future: 'last rotated in the future (clock ahead?): see below',
};

const RESUME_TEXT = {
  finish: 'finish it (every secret had verified)',
  converge: 'wait again for the live Secret to hold the pushed value, then restart, verify and retire',
  undo: 'undo it',
} as const;

const optionsSchema = lazy(() => z.extend(globalOptionsSchema(), { check: z._default(z.boolean(), false) }));

export const statusCommand = defineCommand(
  () =>
    new Command('status')
      .description('one row per secret: kind, last rotated, interval, next due, state')
      .option(
        '--check',
        'for monitoring: exit 1 when a secret is overdue, its last run failed or it is written but not applied (--no-restart), 3 when one needs a person',
      ),
  optionsSchema,
  status,
);

async function status(options: z.output<ReturnType<typeof optionsSchema>>): Promise<number> {
  const [{ checkExitCode, checkProblems, notAppliedText, reportedState, secretHealth, unreadableProblems }, { driftText }] =
    await Promise.all([import('../monitoring/health.js'), import('../monitoring/drift.js')]);
  return withSession(options, { envFile: 'required' }, async (session) => {
    const { pendingRuns } = await import('../engine/index.js');
    const [health, pending, gates, fleetModule, unmanaged] = await Promise.all([
      secretHealth(session),
      pendingRuns(session),
      import('../policy/promotion-status.js').then((m) => m.promotionStatus(session)),
      import('../monitoring/fleet.js'),
      import('../monitoring/unmanaged.js').then((m) => m.unmanagedCredentials(session)),
    ]);
    const fleet = await fleetModule.fleetHealth(session);
    const lagging = fleet.filter((h) => !h.upToDate);
    const secrets = health.map((h) => {
      const pendingRun = pending.of(h.secret);
      const gate = gates.get(h.secret);
      // One state for the table and --json: a drifted secret is not "ok" (overdue and nextDue keep its schedule).
      return {
        ...h,
        state: reportedState(h),
        scheduleState: h.state,
        ...(gate ? { promotion: gate } : {}),
        ...(pendingRun ? { pendingRun } : {}),
      };
    });
    // --check (monitoring) also fails on overdue secrets and failed last runs; plain status only on pending runs.
    const checked = options.check ? checkExitCode(health) : pending.count > 0 ? ExitCode.needsPerson : ExitCode.ok;
    // A host of the fleet that has not applied the values published last fails the check (a parked run says 3).
    const code = options.check && checked === ExitCode.ok && lagging.length > 0 ? ExitCode.failed : checked;
    const problems = [...checkProblems(health), ...fleetModule.fleetProblems(fleet)];
    const body = {
      config: session.configPath ?? null,
      envFile: session.target.description,
      store: session.store.location,
      /** Keys that look like credentials and that no secret manages (names only). */
      unmanaged,
      results: secrets,
      ...(fleet.length ? { fleet } : {}),
      ...(options.check ? { check: { ok: code === ExitCode.ok, problems } } : {}),
    };
    return printResult(options, 'status', code, body, () => {
      const when = (iso: string | null) => (iso ? localTime(iso) : '-');
      const lines = [
        table(
          ['SECRET', 'KIND', 'LAST ROTATED', 'INTERVAL', 'NEXT DUE', 'STATE'],
          secrets.map((s) => [
            s.secret,
            s.kind,
            when(s.lastRotatedAt),
            `${s.intervalDays}d`,
            s.scheduleState === 'never-rotated' || s.scheduleState === 'future' ? 'now' : when(s.nextDue),
            s.drift
              ? `drifted: ${s.drift.where.join(', ')}`
              : s.state === 'unreadable'
                ? `cannot read ${s.unreadable.map((u) => u.where).join(', ')}: see below`
                : !s.lastRunOk && !s.needsPerson && s.lastRun && s.state !== 'not-converged'
                  ? // The same failure status --check reports; a passing `rotate verify` clears it.
                    `last run ${s.lastRun.result} ${localTime(s.lastRun.at)}: rotate history ${s.secret}`
                  : s.state === 'grace' && s.graceUntil
                    ? `grace until ${localTime(s.graceUntil)}`
                    : (STATE_TEXT[s.state] ?? s.state),
          ]),
        ),
      ];
      for (const s of secrets) {
        if (!s.pendingRun) continue;
        lines.push(
          `\n${s.secret}: ${s.pendingRun.mode} run ${s.pendingRun.runId} started ${localTime(s.pendingRun.startedAt)} on ${s.pendingRun.host} did not finish.`,
        );
        const reached = s.pendingRun.reached;
        if (reached) {
          lines.push(
            `  It reached the step ${reached.step} (${reached.state} at ${localTime(reached.at)}); \`rotate resume\` will ${RESUME_TEXT[reached.resume]}.`,
          );
        }
        if (s.pendingRun.needsPerson) lines.push(`  ${s.pendingRun.needsPerson}`);
        lines.push('  Run `rotate resume` to finish or undo it.');
      }
      if (lagging.length > 0) {
        lines.push(`\nFleet: ${fleet.length - lagging.length} of ${fleet.length} hosts applied the values published last.`);
        for (const h of lagging) lines.push(`  ${h.host}: ${h.reason}`);
      }
      for (const s of secrets) if (s.promotion) lines.push(`\n${s.secret}: promotion after ${s.promotion.after}: ${s.promotion.text}`);
      // With --check the problems below say it.
      for (const s of secrets.filter((s) => s.notApplied && !options.check))
        lines.push(`\n${notAppliedText(s.secret, s.unapplied?.services ?? [])}`);
      for (const s of secrets.filter((s) => s.drift && !options.check)) lines.push(`\n${driftText(s.secret, s.drift!, s.key)}`);
      if (!options.check) for (const line of unreadableProblems(health)) lines.push(`\n${line}`);
      for (const s of secrets.filter((s) => s.scheduleState === 'future' && !options.check)) {
        lines.push(
          `\n${s.secret}: its last rotation is recorded in the future (${when(s.lastRotatedAt)}): a clock was ahead when it ran. ` +
            `\`rotate --due\` rotates it; or record when it really was: rotate mark ${s.secret} --rotated-at YYYY-MM-DD`,
        );
      }
      if (unmanaged.length > 0) {
        lines.push(`\nNot managed by rotate (they look like credentials; no secret of the config writes them): ${unmanaged.join(', ')}`);
      }
      const never = secrets.filter((s) => s.scheduleState === 'never-rotated').map((s) => s.secret);
      if (never.length > 0) {
        lines.push(
          `\nNever rotated by rotate: ${never.join(', ')}. \`rotate --due\` rotates them all on its next run; if they were ` +
            'rotated before rotate, record when instead:',
          ...never.map((id) => `  rotate mark ${id} --rotated-at YYYY-MM-DD`),
        );
      }
      if (options.check) {
        lines.push(
          problems.length
            ? `\ncheck failed (exit ${code}):\n${[...checkProblems(health, localTime), ...fleetModule.fleetProblems(fleet)]
                .map((p) => `  ${p}`)
                .join('\n')}`
            : '\ncheck ok: every secret is in date',
        );
      }
      return lines.join('\n');
    });
  });
}

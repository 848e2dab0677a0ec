import { hostname } from 'node:os';
import { Command } from 'commander';
import * as z from 'zod/mini';
import type { AgentResult } from '../fleet/agent.js';
import { lazy } from '../lazy.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { withSession } from './session.js';

const INTERVAL = 'expected a number of seconds above 0, at most 86400';

const optionsSchema = lazy(() =>
  z.extend(globalOptionsSchema(), {
    once: z._default(z.boolean(), false),
    leave: z._default(z.boolean(), false),
    dryRun: z._default(z.boolean(), false),
    interval: z._default(
      z.coerce.number({ error: INTERVAL }).check(z.positive({ error: INTERVAL }), z.lte(86_400, { error: INTERVAL })),
      30,
    ),
    host: z.optional(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a host name of letters, digits, . _ -'))),
  }),
);
type Options = z.output<ReturnType<typeof optionsSchema>>;

export const agentCommand = defineCommand(
  () =>
    new Command('agent')
      .description(
        "on each host of a fleet: register it in the shared store, apply the values a rotation publishes (env files, restarts, checks, 'every' hooks) and acknowledge them",
      )
      .option('--once', 'one pass, then exit (for a systemd timer or cron)')
      .option('--interval <seconds>', 'seconds between passes when running as a loop (default 30)')
      .option('--host <name>', 'the name this host registers under (default: ROTATE_HOST, else the host name)')
      .option('--leave', 'retire this host from the fleet: rotations stop waiting for it')
      .option('--dry-run', 'say what a pass would apply and restart here; register, write and acknowledge nothing'),
  optionsSchema,
  agent,
);

const EXIT_BY_STATUS: Record<AgentResult['status'], number> = { idle: 0, current: 0, applied: 0, left: 0, planned: 0, failed: 1 };

const line = (r: AgentResult): string =>
  r.status === 'failed'
    ? `${r.host}: failed to apply run ${r.runId}: ${r.error?.message}${r.error?.hint ? `\n  ${r.error.hint}` : ''}`
    : r.status === 'applied'
      ? `${r.host}: applied run ${r.runId} (${r.keys?.join(', ') || 'no key of this host'}; restarted ${r.services?.join(', ') || 'nothing'}) and acknowledged it`
      : r.status === 'current'
        ? `${r.host}: up to date with run ${r.runId}`
        : r.status === 'left'
          ? `${r.host}: left the fleet`
          : r.status === 'planned'
            ? `${r.host}: would apply run ${r.runId} (${r.keys?.join(', ') || 'no key of this host'}) and restart ${r.services?.join(', ') || 'nothing'}`
            : `${r.host}: no values published`;

/** `rotate agent`: one pass (`--once`), or passes every `--interval` seconds until SIGINT/SIGTERM. */
async function agent(options: Options): Promise<number> {
  const [{ agentPass, agentPlan, leaveFleet }, { stopSignal, whileChanging }, { errorInfo }] = await Promise.all([
    import('../fleet/agent.js'),
    import('./interrupt.js'),
    import('../errors.js'),
  ]);
  const host = options.host ?? (process.env.ROTATE_HOST || hostname());
  return withSession(options, { envFile: 'required', unattended: true }, async (session) => {
    const print = (r: AgentResult) =>
      printResult(options, 'agent', EXIT_BY_STATUS[r.status], { results: [r] }, () =>
        r.status === 'idle' || r.status === 'current' ? '' : line(r),
      );
    if (options.leave) return print(await leaveFleet(session, host));
    if (options.dryRun) {
      const plan = await agentPlan(session, host);
      return printResult(options, 'agent', 0, { results: [plan] }, () => line(plan));
    }
    // --json in loop mode: one document at exit (CONTRACT.md, Output), not one per pass; consecutive passes with the
    // same outcome are one item (`pass`: the first of them, `passes`: how many), so a long-running loop stays small.
    const passes: LoopItem[] = [];
    const remember = (result: AgentResult, pass: number) => {
      const last = passes.at(-1);
      if (last && sameOutcome(last, result)) last.passes += 1;
      else passes.push({ ...result, pass, passes: 1 });
    };
    // From here a signal waits for the pass to end (a write and its restart are not cut in the middle).
    return whileChanging(async () => {
      for (let pass = 1; ; pass++) {
        let code: number;
        try {
          const result = await agentPass(session, host);
          if (result.status === 'idle' || result.status === 'current') session.deps.log.debug(line(result));
          if (options.json && !options.once) {
            remember(result, pass);
            code = EXIT_BY_STATUS[result.status];
          } else code = print(result);
        } catch (error) {
          // The store unreachable, a wrong key, a name taken: --once reports it; the loop says so and tries again.
          if (options.once || (error as { code?: string }).code === 'FLEET_HOST_TAKEN') throw error;
          session.deps.log.warn(`${host}: this pass failed: ${(error as Error).message}; trying again in ${options.interval} s`);
          remember({ host, status: 'failed', error: errorInfo(error) }, pass);
          code = 1;
        }
        if (options.once) return code;
        if (await stopped(stopSignal, options.interval * 1000)) {
          return options.json ? printResult(options, 'agent', 0, { results: passes }, () => '') : 0;
        }
      }
    });
  });
}

/** One item of the loop's `--json` document: a pass's result, and how many passes in a row had the same one. */
type LoopItem = AgentResult & { pass: number; passes: number };

/** The same outcome as the pass before: the same status of the same published values, the same error. */
const sameOutcome = (a: AgentResult, b: AgentResult): boolean =>
  a.status === b.status &&
  a.runId === b.runId &&
  a.fingerprint === b.fingerprint &&
  a.error?.code === b.error?.code &&
  a.error?.message === b.error?.message;

/** Sleeps `ms`, or less when a signal asks the loop to stop: true when it did. */
function stopped(signal: AbortSignal, ms: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

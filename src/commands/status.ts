import { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { table } from '../terminal/render.js';
import { type ActionRunner, commandOptions, type GlobalOptions, globalOptionsSchema, parseOptions, withGlobalOptions } from './options.js';
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
};

export function statusCommand(run: ActionRunner): Command {
  return withGlobalOptions(new Command('status').description('one row per secret: kind, last rotated, interval, next due, state')).action(
    run((command) => status(parseOptions(globalOptionsSchema, commandOptions(command)))),
  );
}

async function status(options: GlobalOptions): Promise<number> {
  const [{ schedule }, { readEnvFile }] = await Promise.all([import('../engine/due.js'), import('../envfile/file.js')]);
  return withSession(options, {}, async (session) => {
    const [states, journals, env] = await Promise.all([
      session.store.readStates(),
      session.store.readJournals(),
      readEnvFile(session.envFile),
    ]);
    const now = session.deps.now();
    const secrets = Object.entries(session.config.secrets).map(([id, config]) => {
      const journal = journals.find((j) => j.secret === id);
      return {
        secret: id,
        kind: config.kind,
        intervalDays: config.intervalDays,
        ...schedule(config, states[id], journal, env.values, now),
        ...(journal
          ? {
              pendingRun: {
                runId: journal.runId,
                mode: journal.mode,
                host: journal.host,
                startedAt: journal.startedAt,
                needsPerson: journal.needsPerson ?? null,
              },
            }
          : {}),
      };
    });
    const code = journals.length > 0 ? ExitCode.needsPerson : ExitCode.ok;
    const body = { config: session.configPath ?? null, envFile: session.envFile, store: session.store.location, results: secrets };
    return printResult(options, 'status', code, body, () => {
      const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '-');
      const lines = [
        table(
          ['SECRET', 'KIND', 'LAST ROTATED', 'INTERVAL', 'NEXT DUE', 'STATE'],
          secrets.map((s) => [
            s.secret,
            s.kind,
            day(s.lastRotatedAt),
            `${s.intervalDays}d`,
            s.state === 'never-rotated' ? 'now' : day(s.nextDue),
            s.state === 'grace' ? `grace until ${s.graceUntil}` : (STATE_TEXT[s.state] ?? s.state),
          ]),
        ),
      ];
      for (const s of secrets) {
        if (!s.pendingRun) continue;
        lines.push(
          `\n${s.secret}: ${s.pendingRun.mode} run ${s.pendingRun.runId} started ${s.pendingRun.startedAt} on ${s.pendingRun.host} did not finish.`,
        );
        if (s.pendingRun.needsPerson) lines.push(`  ${s.pendingRun.needsPerson}`);
        lines.push('  Run `rotate resume` to finish or undo it.');
      }
      return lines.join('\n');
    });
  });
}

import { schedule } from '../engine/due.js';
import { readEnvFile } from '../envfile/file.js';
import { ExitCode } from '../errors.js';
import { jsonDocument, printStdout, table } from '../terminal/render.js';
import { globalOptionsSchema, openSession, parseOptions } from './session.js';

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

export async function statusCommand(raw: unknown): Promise<number> {
  const options = parseOptions(globalOptionsSchema, raw);
  const session = await openSession(options);
  try {
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
    if (options.json) {
      printStdout(
        jsonDocument('status', code, {
          config: session.configPath ?? null,
          envFile: session.envFile,
          store: session.store.location,
          secrets,
        }),
      );
      return code;
    }
    const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '-');
    printStdout(
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
    );
    for (const s of secrets) {
      if (s.pendingRun) {
        printStdout(
          `\n${s.secret}: ${s.pendingRun.mode} run ${s.pendingRun.runId} started ${s.pendingRun.startedAt} on ${s.pendingRun.host} did not finish.`,
        );
        if (s.pendingRun.needsPerson) printStdout(`  ${s.pendingRun.needsPerson}`);
        printStdout('  Run `rotate resume` to finish or undo it.');
      }
    }
    return code;
  } finally {
    await session.store.close();
  }
}

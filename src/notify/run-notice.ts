import type { ErrorInfo, SecretResult } from '../engine/result.js';
import { errorInfo } from '../engine/result.js';
import type { Session } from '../engine/session.js';
import { ExitCode } from '../errors.js';
import { type Notice, sendNotice } from './send.js';

/**
 * A safety net: a failed secret the run wrote no history for still reaches the on-call, one notice each. Failed
 * checks and generations are recorded (engine/record.ts, recordUnstarted), and record() posts their notices;
 * `recorded` are the secrets the run wrote history for.
 */
export async function notifyUnrecorded(session: Session, results: SecretResult[], recorded: Set<string>): Promise<void> {
  for (const result of results) {
    if (result.status !== 'failed' || recorded.has(result.secret)) continue;
    const error = result.error ? `: [${result.error.code}] ${result.error.message}` : '';
    const notice: Notice = {
      event: 'failure',
      secret: result.secret,
      kind: result.kind,
      status: result.status,
      host: session.deps.host,
      ...(result.error ? { error: result.error } : {}),
      text:
        `rotate: ${result.secret} rotation failed its checks on ${session.deps.host}; nothing was changed${error}. ` +
        `Next: run \`rotate verify ${result.secret}\`, fix what it names, then \`rotate ${result.secret}\``,
    };
    await sendNotice(session.config.notify, session.deps, notice);
  }
}

/**
 * A `--due` run that stopped on an error before finishing (a store or target that cannot be reached, a changed
 * target): cron would otherwise only leave an exit code in a log. A lock held by another run (exit 4) is not news.
 */
export async function notifyRunError(session: Session, command: string, error: unknown): Promise<void> {
  const info: ErrorInfo = errorInfo(error);
  const exitCode = (error as { exitCode?: number }).exitCode ?? ExitCode.failed;
  if (exitCode === ExitCode.locked) return;
  const needsPerson = exitCode === ExitCode.needsPerson;
  await sendNotice(session.config.notify, session.deps, {
    event: needsPerson ? 'needs-person' : 'failure',
    command,
    host: session.deps.host,
    exitCode,
    error: info,
    text:
      `rotate: \`${command}\` on ${session.deps.host} stopped with exit ${exitCode}: [${info.code}] ${info.message}. ` +
      `Next: run \`rotate status\` on ${session.deps.host}${needsPerson ? ', then `rotate resume`' : `, fix the cause, then \`${command}\` again`}`,
  });
}

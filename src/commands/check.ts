import { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { defineCommand, type GlobalOptions, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { withSession } from './session.js';

/** `rotate check`: the rotation guide's rules as findings; exit 1 when an error-level finding stands. */
export const checkCommand = defineCommand(
  () =>
    new Command('check').description(
      'policy findings: env files in git or readable by others, reused, shared, weak or placeholder values, overdue secrets (never a value)',
    ),
  globalOptionsSchema,
  check,
);

async function check(options: GlobalOptions): Promise<number> {
  const [{ checkFindings }, { realGit }] = await Promise.all([import('../policy/check.js'), import('../policy/git.js')]);
  return withSession(options, { envFile: 'required' }, async (session) => {
    const findings = await checkFindings(session, realGit);
    const errors = findings.filter((f) => f.severity === 'error').length;
    const code = errors > 0 ? ExitCode.failed : ExitCode.ok;
    return printResult(options, 'check', code, { results: findings }, () => {
      if (findings.length === 0) return 'check ok: no finding';
      const lines = findings.map(
        (f) =>
          `${f.severity === 'error' ? 'error  ' : 'warning'} ${f.id}${f.secret ? ` (${f.secret})` : ''}: ${f.message}\n        ${f.where}\n        fix: ${f.fix}`,
      );
      const warnings = findings.length - errors;
      lines.push(
        `\n${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${errors ? ' (exit 1)' : ''}`,
      );
      return lines.join('\n');
    });
  });
}

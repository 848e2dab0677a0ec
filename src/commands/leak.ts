import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Command } from 'commander';
import * as z from 'zod/mini';
import type { SecretResult } from '../engine/index.js';
import { ExitCode, RotateError, unreadableFileReason } from '../errors.js';
import { lazy } from '../lazy.js';
import type { LeakMatch } from '../policy/leak-match.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { withSession } from './session.js';

const optionsSchema = lazy(() =>
  z.extend(globalOptionsSchema(), { from: z.string().check(z.minLength(1)), yes: z._default(z.boolean(), false) }),
);
type LeakOptions = z.output<ReturnType<typeof optionsSchema>>;

/** Larger reports are refused before they are read (a scan to narrow first). */
const MAX_BYTES = 256 * 1024 * 1024;

/** `rotate leak --from <report.json>`: a scanner's findings matched to the managed secrets, then one emergency run. */
export const leakCommand = defineCommand(
  () =>
    new Command('leak')
      .description("rotate the secrets a scanner's report found leaked (gitleaks, trufflehog, secretlint JSON), with their related ones")
      .requiredOption('--from <report>', 'the JSON report of gitleaks, trufflehog or secretlint')
      .option('-y, --yes', 'rotate the matched secrets and their related ones now, as one --emergency run'),
  optionsSchema,
  leak,
);

async function readReport(path: string): Promise<string> {
  try {
    const { size, isFile } = await stat(path).then((s) => ({ size: s.size, isFile: s.isFile() }));
    if (!isFile) throw new Error('it is not a file');
    if (size > MAX_BYTES) throw new Error(`it is ${Math.round(size / 1024 / 1024)} MB, over the 256 MB rotate leak reads`);
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new RotateError('LEAK_REPORT_UNREADABLE', `cannot read the report ${path}: ${unreadableFileReason(error)}; nothing was rotated`, {
      hint: 'point --from at the JSON report the scanner wrote (gitleaks --report-path, trufflehog --json > file, secretlint --output)',
    });
  }
}

const where = (m: Pick<LeakMatch, 'file' | 'line' | 'commit'>) =>
  `${m.file ?? '(no file)'}${m.line !== null ? `:${m.line}` : ''}${m.commit ? ` (commit ${m.commit.slice(0, 12)})` : ''}`;

/** The reason of the emergency run: the report, and where and by which rule the secrets were found. Never a value. */
function reasonOf(report: string, matches: LeakMatch[]): string {
  const found = matches.filter((m) => m.secrets.length > 0);
  const first = found.slice(0, 3).map((m) => `${m.scanner} ${m.rule} in ${where(m)}: ${m.secrets.join(', ')}`);
  return `leak report ${basename(report)}: ${first.join('; ')}${found.length > 3 ? `; and ${found.length - 3} more` : ''}`;
}

async function leak(options: LeakOptions): Promise<number> {
  const path = resolve(options.from);
  const [{ parseLeakReport }, { matchFindings, withRelated }] = await Promise.all([
    import('../policy/leak-report.js'),
    import('../policy/leak-match.js'),
  ]);
  // A bad report is refused before the config, the store or the target is opened.
  const report = parseLeakReport(path, await readReport(path));
  // On a terminal the rotation asks first (as `rotate <ids>` does); off one it needs --yes, else only the plan prints.
  const atTerminal = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const rotating = options.yes || atTerminal;
  const needs = { envFile: 'required' as const, emergency: rotating, restart: true };
  return withSession(options, needs, async (session) => {
    const [engine, { envKeysOf }, { confirm }, { localTime }] = await Promise.all([
      import('../engine/index.js'),
      import('../secrets/index.js'),
      import('../terminal/confirm.js'),
      import('../terminal/time.js'),
    ]);
    const ids = Object.keys(session.config.secrets);
    const snapshot = await session.target.read();
    const managed = ids.map((id) => ({
      id,
      values: envKeysOf(session.config.secrets[id]!).flatMap((key) => (snapshot.values[key] ? [snapshot.values[key]] : [])),
    }));
    const matches = matchFindings(report.findings, managed, session.deps.randomBytes(32));
    const matched = [...new Set(matches.flatMap((m) => m.secrets))];
    const plan = withRelated(matched, (id) => session.config.secrets[id]?.related ?? [], ids);
    const unmanaged = matches.filter((m) => m.secrets.length === 0);

    let rotation: SecretResult[] = [];
    let rotationCode: number = ExitCode.ok;
    if (rotating && plan.rotate.length > 0) {
      session.options.reason = reasonOf(path, matches);
      // One --emergency run of the set, through the same path as `rotate <ids>`: consent, lock, gate, notifications.
      const outcome = await engine.rotate(session, {
        ids: plan.rotate,
        due: false,
        all: false,
        dryRun: false,
        confirm: (question) => confirm(question, options.yes),
        localTime,
      });
      rotation = outcome.results;
      rotationCode = outcome.code;
    }
    const code = rotationCode !== ExitCode.ok ? rotationCode : unmanaged.length > 0 ? ExitCode.failed : ExitCode.ok;
    const body = {
      report: path,
      scanner: report.scanner,
      results: matches,
      plan: { matched: plan.rotate.filter((id) => !plan.relatedOnly.includes(id)), related: plan.relatedOnly, rotate: plan.rotate },
      unmanaged: unmanaged.length,
      rotated: rotating && plan.rotate.length > 0,
      rotation,
    };
    return printResult(options, 'leak', code, body, () => humanText(path, report.scanner, matches, plan, unmanaged, rotation, rotating));
  });
}

function humanText(
  path: string,
  scanner: string | null,
  matches: LeakMatch[],
  plan: { rotate: string[]; relatedOnly: string[] },
  unmanaged: LeakMatch[],
  rotation: SecretResult[],
  rotating: boolean,
): string {
  const lines = [`${basename(path)}: ${matches.length} finding${matches.length === 1 ? '' : 's'}${scanner ? ` (${scanner})` : ''}`];
  for (const m of matches.filter((m) => m.secrets.length > 0)) lines.push(`  ${m.secrets.join(', ')}: ${m.rule} in ${where(m)}`);
  if (plan.rotate.length > 0) {
    const related = plan.relatedOnly.length ? ` (related: ${plan.relatedOnly.join(', ')})` : '';
    lines.push(`Plan: rotate ${plan.rotate.join(', ')}${related} as one --emergency run`);
  } else lines.push('No managed secret is in the report.');
  if (unmanaged.length > 0) {
    lines.push(
      `Unmanaged: ${unmanaged.length} finding${unmanaged.length === 1 ? '' : 's'} match no secret rotate manages; revoke them by hand:`,
    );
    for (const m of unmanaged.slice(0, 20))
      lines.push(`  ${m.rule} in ${where(m)}${m.redacted ? ' (redacted in the report: nothing to match)' : ''}`);
    if (unmanaged.length > 20) lines.push(`  ... and ${unmanaged.length - 20} more (--json lists them all)`);
    if (unmanaged.some((m) => m.redacted))
      lines.push(
        'Redacted findings may be managed secrets: scan again without redaction (gitleaks without --redact) and run rotate leak on that report',
      );
  }
  for (const r of rotation)
    lines.push(`${r.secret}: ${r.status}${r.note ? ` (${r.note})` : ''}${r.error ? `: [${r.error.code}] ${r.error.message}` : ''}`);
  if (!rotating && plan.rotate.length > 0) lines.push(`Nothing rotated: run again with --yes: rotate leak --from ${path} --yes`);
  return lines.join('\n');
}

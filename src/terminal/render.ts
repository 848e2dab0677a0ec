import type { ErrorInfo, SecretResult } from '../engine/result.js';
import { ExitCode } from '../errors.js';
import { redact } from '../secret-value.js';
import { type Facts, type FactsMoment, listed } from '../secrets/facts.js';
import { escapeBlock, escapeInline } from './escape.js';
import { colorFor } from './logger.js';
import { localTime } from './time.js';

export const SCHEMA_VERSION = 1;

/** The one JSON document `--json` prints on stdout, on success and on failure alike. */
export function jsonDocument(command: string, exitCode: number, body: Record<string, unknown>): string {
  return redact(JSON.stringify({ schemaVersion: SCHEMA_VERSION, command, ok: exitCode === ExitCode.ok, exitCode, ...body }, null, 2));
}

/** Human output: redacted, and no control character from outside reaches the terminal raw (escape.ts). */
export function printStdout(text: string): void {
  process.stdout.write(`${escapeBlock(redact(text))}\n`);
}

const SYMBOL: Record<SecretResult['status'], string> = {
  rotated: '✔',
  written: '!',
  grace: '✔',
  retired: '✔',
  restored: '✔',
  undone: '↩',
  verified: '✔',
  'verify-failed': '✖',
  planned: '•',
  'preflight-failed': '✖',
  skipped: '-',
  'needs-operator': '!',
  failed: '✖',
  'rolled-back': '↩',
  'rollback-failed': '✖',
  'retire-failed': '✖',
  'not-converged': '!',
};

const SENTENCE: Record<SecretResult['status'], string> = {
  rotated: 'rotated and verified; the old value is retired',
  written:
    'written but not applied to any running process (--no-restart): restart its services, then run `rotate verify`; rotate left the old value alone',
  grace: 'rotated and verified; the old value stays valid',
  retired: 'old value retired',
  restored: 'previous value restored and verified',
  undone: 'unfinished run undone; the old value works again',
  verified: 'verified',
  'verify-failed': 'verification failed',
  planned: 'would rotate',
  'preflight-failed': 'would not rotate: a preflight check failed',
  skipped: 'skipped',
  'needs-operator': 'needs an operator',
  failed: 'not rotated; nothing was changed',
  'rolled-back': 'failed; everything was rolled back and the old value works',
  'rollback-failed': 'failed, and the rollback failed too: needs a person',
  'retire-failed': 'rotated, but the old value could not be retired: needs a person',
  'not-converged':
    'pushed, not converged: the live Secret does not hold the new value yet; the old value stays valid: check the GitOps controller, then `rotate resume`',
};

/**
 * How far a result got, for its facts' sentences (each kind writes its own: src/secrets/<kind>/kind.ts). A result
 * that changed nothing, was undone, or only checked the current values has no facts worth a line.
 */
const MOMENT: Partial<Record<SecretResult['status'], FactsMoment>> = {
  planned: 'plan',
  'preflight-failed': 'plan',
  rotated: 'done',
  grace: 'done',
  retired: 'done',
  restored: 'done',
  written: 'written',
};

/** The sentence of a value put in place that nothing checked in the running app (SecretResult.unchecked). */
const UNCHECKED_SENTENCE: Partial<Record<SecretResult['status'], string>> = {
  rotated: 'rotated, not verified in the app; the old value is retired',
  grace: 'rotated, not verified in the app; the old value stays valid',
  restored: 'previous value restored, not verified in the app',
  verified: 'its checks passed; not verified in the app',
};

const OK = new Set<SecretResult['status']>(['rotated', 'grace', 'retired', 'restored', 'verified', 'planned', 'undone']);

/** Human lines for a run's results (stdout). */
export function renderResults(
  results: SecretResult[],
  environment: Record<string, string | undefined>,
  /** The kinds' sentences for their facts (secrets/index.ts `factSentences`; loaded with the config, not at start-up). */
  factSentences: (kind: string, facts: Facts, moment: FactsMoment) => string[],
): string {
  const c = colorFor(process.stdout, environment);
  const lines: string[] = [];
  for (const r of results) {
    const failedChecks = r.checks.filter((check) => !check.ok);
    const good = OK.has(r.status) && failedChecks.length === 0;
    const paint = good ? c.green : r.status === 'skipped' || r.status === 'needs-operator' || r.status === 'written' ? c.yellow : c.red;
    const sentence = (r.unchecked && UNCHECKED_SENTENCE[r.status]) || SENTENCE[r.status];
    let head = `${paint(SYMBOL[r.status])} ${c.bold(r.secret)} (${r.kind}): ${sentence}`;
    if (r.graceUntil) head += ` until ${localTime(r.graceUntil)}`;
    lines.push(head);
    const moment = MOMENT[r.status];
    if (moment) {
      if (r.envKeys.length) lines.push(`    ${moment === 'plan' ? 'would write' : 'wrote'} ${listed(r.envKeys)}`);
      for (const sentence of factSentences(r.kind, r.facts, moment)) lines.push(`    ${sentence}`);
    }
    for (const check of r.checks) {
      // A check's detail often quotes a server (its error text): one line, escaped.
      lines.push(
        `    ${check.ok ? c.green('✔') : c.red('✖')} ${check.name}${check.detail ? c.dim(` (${escapeInline(check.detail)})`) : ''}`,
      );
      if (!check.ok && check.hint) lines.push(`      ${c.dim(`hint: ${escapeInline(check.hint)}`)}`);
    }
    if (r.unchecked && UNCHECKED_SENTENCE[r.status]) lines.push(`    ${c.yellow('!')} not checked: ${r.unchecked}`);
    if (r.note) lines.push(`    ${escapeInline(r.note)}`);
    if (r.error) lines.push(...errorLines(r.error).map((l) => `    ${l}`));
  }
  return lines.join('\n');
}

/**
 * An error's lines: rotate's own line breaks stay lines (CONFIG_INVALID names one key a line), so a caller can indent
 * each; every other control character of each line is escaped (it may quote a server or a file).
 */
export function errorLines(error: ErrorInfo): string[] {
  const [first = '', ...rest] = error.message.split('\n').map(escapeInline);
  // A hint's lines stay lines too (what a failed command printed), indented under it.
  const [hint, ...more] = error.hint ? error.hint.split('\n').map(escapeInline) : [];
  return [`[${error.code}] ${first}`, ...rest, ...(hint === undefined ? [] : [`hint: ${hint}`, ...more.map((line) => `  ${line}`)])];
}

/** A plain table: columns padded to their widest cell; a cell is one line, its control characters escaped. */
export function table(header: string[], unsafeRows: string[][]): string {
  const rows = unsafeRows.map((row) => row.map((cell) => escapeInline(cell ?? '')));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

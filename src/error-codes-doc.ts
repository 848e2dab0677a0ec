import { ERROR_CODES, ExitCode } from './error-codes.js';

const EXIT_MEANING: Record<number, string> = {
  [ExitCode.failed]: 'failed (rolled back) or a check failed',
  [ExitCode.usage]: 'bad usage or config: nothing touched',
  [ExitCode.needsPerson]: 'needs a person',
  [ExitCode.locked]: 'locked',
};

const cell = (text: string) => text.replaceAll('|', '\\|');

/** docs/errors.md, generated from the registry (`npm run docs:errors`); a unit test keeps the file in step. */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, e]) => `| <a id="${code.toLowerCase()}"></a>\`${code}\` | ${e.exit} | ${cell(e.when)} | ${cell(e.hint)} | [more](${e.doc}) |`,
  );
  const exits = Object.entries(EXIT_MEANING).map(([code, meaning]) => `\`${code}\` ${meaning}`);
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/error-codes.ts by `npm run docs:errors`; edit the registry, not this file. -->',
    '',
    'Every error rotate prints starts with its code, `[CODE] message`, followed by a hint line; with `--json` the',
    'code is `error.code`. Codes are stable: scripts may match on them. The message names the file, key or config',
    'path at fault and the hint printed with it is usually more precise than the one below.',
    '',
    `Exit codes: ${exits.join('; ')}.`,
    '',
    '| code | exit | when | what to do | docs |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

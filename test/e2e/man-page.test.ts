// man/rotate.1 (written by the build, scripts/write-man.mjs): real man sections that render without a warning, and
// every command of `rotate --help` in COMMANDS. Needs man(1): fails, never skips, when it is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const PAGE = new URL('../../man/rotate.1', import.meta.url).pathname;
/** The rendered text between two section headings. */
const section = (text: string, from: string, to?: string): string => {
  const rest = text.split(`\n${from}\n`)[1] ?? '';
  return to ? (rest.split(`\n${to}\n`)[0] ?? '') : rest;
};
const SECTIONS = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'ENVIRONMENT', 'FILES', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO'];

describe('man page', () => {
  it('renders with man --warnings: every section, no warning, every command and environment variable', async () => {
    expect(execFileSync('sh', ['-c', 'command -v man'], { encoding: 'utf8' }).trim(), 'man(1) must be installed').not.toBe('');
    const source = readFileSync(PAGE, 'utf8');
    const man = spawnSync('man', ['--warnings', '-l', PAGE], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' },
    });
    expect(man.status, man.stderr).toBe(0);
    const { stdout: text, stderr } = man;
    expect(stderr).toBe('');
    const headings = text.split('\n').filter((line) => /^[A-Z][A-Z ]+$/.test(line));
    expect(headings).toEqual(SECTIONS);
    // Not the help text pasted: no "Usage:" block and no verbatim (.nf) help.
    expect(text).not.toContain('Usage: rotate');

    const help = (await runCli(['--help'], { cwd: process.cwd() })).stdout;
    const commands = [...(`\n${help}`.split('\nCommands:\n')[1] ?? '').split('\n\n')[0]!.matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1]);
    expect(commands).toEqual(expect.arrayContaining(['check', 'leak', 'agent', 'backups', 'completion']));
    const commandSection = section(text, 'COMMANDS', 'OPTIONS');
    for (const name of commands) expect(commandSection, name).toMatch(new RegExp(`^ {7}rotate ${name}\\b`, 'm'));

    const environment = section(text, 'ENVIRONMENT', 'FILES');
    for (const name of [
      'ROTATE_MASTER_KEY',
      'ROTATE_NEW_STRIPE_SECRET_KEY',
      'ROTATE_NEW_STRIPE_PUBLISHABLE_KEY',
      'ROTATE_HOST',
      'KUBECONFIG',
      'DOTENV_PRIVATE_KEY',
      'NO_COLOR',
      'adminUrlEnv',
      'store.urlEnv',
    ])
      expect(environment, name).toContain(name);
    const exitStatus = section(text, 'EXIT STATUS', 'EXAMPLES');
    for (const code of ['0', '1', '2', '3', '4']) expect(exitStatus).toMatch(new RegExp(`^ {7}${code} `, 'm'));
    const files = section(text, 'FILES', 'EXIT STATUS');
    for (const name of ['rotate.config.json', '.rotate/', 'master.key', 'backups/', 'journal/', 'history.jsonl'])
      expect(files).toContain(name);
    expect(section(text, 'SEE ALSO')).toMatch(/kubectl\(1\)[\s\S]*dotenvx/);
    expect(source).not.toContain('.nf\nUsage');
  });
});

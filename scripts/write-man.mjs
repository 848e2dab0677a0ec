// Writes man/rotate.1 at build time from the built CLI's own help (the same text as `rotate help <command>`), so the
// man page never drifts from the commands: `man rotate` after a global install.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const cli = new URL('../dist/bin/rotate.js', import.meta.url).pathname;
const help = (...args) =>
  execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '100' } });
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// roff: a leading dot or quote starts a request, and a backslash escapes.
const roffEscape = (text) =>
  text
    .replace(/\\/g, '\\e')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/-/g, '\\-');
const verbatim = (text) => `.nf\n${roffEscape(text.trimEnd())}\n.fi\n`;

const root = help('--help');
const commands = [
  ...root
    .split('Commands:\n')[1]
    .split('\n\n')[0]
    .matchAll(/^ {2}([a-z]+)/gm),
].map((m) => m[1]);
const sections = [
  `.TH ROTATE 1 "" "rotate ${version}" "User Commands"`,
  '.SH NAME',
  'rotate \\- rotate the secrets of a web platform safely (JWT, data-encryption key, PostgreSQL, Redis, Stripe)',
  '.SH SYNOPSIS',
  '.B rotate',
  '[options] [secret...] | rotate <command> [options]',
  '.SH DESCRIPTION',
  verbatim(root),
  ...commands.filter((name) => name !== 'help').flatMap((name) => [`.SH COMMAND: ${name.toUpperCase()}`, verbatim(help('help', name))]),
  '.SH FILES',
  'rotate.config.json (configuration), .env (the env file it edits), .rotate/ (state, history, encrypted backups, lock).',
];
mkdirSync(new URL('../man/', import.meta.url), { recursive: true });
writeFileSync(new URL('../man/rotate.1', import.meta.url), `${sections.join('\n')}\n`);

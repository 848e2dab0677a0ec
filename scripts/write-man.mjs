// Writes man/rotate.1 at build time: real man sections (NAME, SYNOPSIS, DESCRIPTION, COMMANDS, OPTIONS, ENVIRONMENT,
// FILES, EXIT STATUS, EXAMPLES, SEE ALSO). Commands, options, examples and exit codes are parsed from the built CLI's
// own help, so the page never drifts from `rotate --help`; the environment and files are written here, from
// docs/configuration.md's "Environment variables rotate reads" and the file store's layout.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const cli = new URL('../dist/bin/rotate.js', import.meta.url).pathname;
const help = (...args) =>
  execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '80' } });
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// roff: a leading dot or quote starts a request, a backslash escapes, and a plain '-' may be typeset as a hyphen.
const roff = (text) =>
  text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');

/** The text under a help heading ("Options:"), up to the next blank line. */
const block = (text, heading) => (text.split(`\n${heading}\n`)[1] ?? '').split('\n\n')[0];

/** `  term   description` rows, with the description's wrapped continuation lines joined. */
const rows = (text) => {
  const out = [];
  for (const line of text.split('\n')) {
    const entry = /^ {2}(\S.*?)(?: {2,}(.*))?$/.exec(line);
    if (entry) out.push({ term: entry[1].trim(), description: entry[2] ?? '' });
    else if (out.length && line.trim()) out[out.length - 1].description += ` ${line.trim()}`;
  }
  return out;
};
const item = (term, description) => `.TP\n.B ${roff(term)}\n${roff(description)}`;

const root = help('--help');
const commands = rows(block(root, 'Commands:')).map(({ term, description }) => ({ name: term.split(' ')[0], term, description }));
const commandSection = commands.flatMap(({ name, term, description }) => {
  const own = name === 'help' ? [] : rows(block(help('help', name), 'Options:'));
  return [
    item(`rotate ${term.replace(' [options]', own.length ? ' [options]' : '')}`, description),
    ...(own.length ? ['.RS', ...own.map((o) => item(o.term, o.description)), '.RE'] : []),
  ];
});

const ENVIRONMENT = [
  [
    'ROTATE_MASTER_KEY',
    '32 bytes (64 hex characters or base64) that seal backups and journals; else .rotate/master.key. Required with the postgres store.',
  ],
  [
    'ROTATE_NEW_STRIPE_SECRET_KEY, ROTATE_NEW_STRIPE_PUBLISHABLE_KEY',
    'the Stripe keys you rolled in the Stripe Dashboard, for rotate stripe.',
  ],
  ['ROTATE_HOST', "the name this host registers and acknowledges under in a fleet (rotate agent); default: the machine's host name."],
  ['ROTATE_STDIN_TIMEOUT', 'seconds a piped, non-terminal stdin may stay silent before a hand-over gives up (default 30).'],
  [
    'the variables named by adminUrlEnv and store.urlEnv in the config',
    "the admin connection URLs (PostgreSQL, Redis) and the postgres store's URL; rotate reads the names the config gives.",
  ],
  [
    'KUBECONFIG',
    'the Kubernetes credentials for a kubernetes target, as kubectl(1) reads them (else ~/.kube/config, else the in-cluster service account).',
  ],
  [
    'DOTENV_PRIVATE_KEY, DOTENV_PRIVATE_KEY_<ENV>',
    'the private key of a dotenvx-encrypted env file (else the .env.keys beside it); never passed to a restart command.',
  ],
  ['NO_COLOR', 'no colour, even on a terminal.'],
];
const FILES = [
  [
    'rotate.config.json',
    'the configuration in the current directory (another with --config); rotate init writes it. Its JSON Schema is installed with the package (schema/).',
  ],
  ['.env', 'the env file rotate edits (envFile in the config, or --env-file).'],
  [
    '.rotate/',
    "the file store (store.dir in the config): state.json (each secret's state), history.jsonl and history-head.json (the audit log), journal/ (sealed journals of runs in progress, for rotate resume), backups/ (sealed backups of the env files, taken before each write), master.key (the master key when ROTATE_MASTER_KEY is not set; keep a copy), key-check.json (which key sealed the store, never the key), lock (the run holding the lock).",
  ],
];
const exits = rows(block(root, 'Exit codes:'));
const examples = block(root, 'Examples:')
  .split('\n')
  .map((line) => /^ {2}\$ (.*?)(?: {2,}# (.*))?$/.exec(line))
  .filter(Boolean);

const page = [
  `.TH ROTATE 1 "" "rotate ${version}" "User Commands"`,
  '.SH NAME',
  'rotate \\- rotate the secrets of a web platform safely (JWT, data\\-encryption key, PostgreSQL, Redis, Stripe)',
  '.SH SYNOPSIS',
  '.B rotate',
  '[\\fIoptions\\fR] [\\fIsecret\\fR...]',
  '.br',
  '.B rotate',
  '\\fIcommand\\fR [\\fIoptions\\fR] [\\fIargs\\fR]',
  '.SH DESCRIPTION',
  roff(root.split('\n\n')[1].replace(/\n/g, ' ')),
  '.PP',
  roff(
    'rotate makes a new value for each secret, applies it where it is used (the provider, the env file or Kubernetes Secret, the services that read it), verifies it, keeps the old value valid for a grace period, and records every run in a history that never holds a value. An interrupted run is finished or undone by rotate resume.',
  ),
  '.PP',
  roff('Without a command, rotate rotates the secrets named (ids from the config), or every due one with --due, or all with --all.'),
  '.SH COMMANDS',
  ...commandSection,
  '.SH OPTIONS',
  ...rows(block(root, 'Options:')).map((o) => item(o.term, o.description)),
  '.PP',
  '.SS "Options of every command"',
  ...rows(block(root, 'Options of every command:')).map((o) => item(o.term, o.description)),
  '.SH ENVIRONMENT',
  ...ENVIRONMENT.map(([name, text]) => item(name, text)),
  '.SH FILES',
  ...FILES.map(([name, text]) => item(name, text)),
  '.SH EXIT STATUS',
  ...exits.map((e) => item(e.term, e.description)),
  '.PP',
  roff('Each error prints a code (docs/errors.md lists them all, with what to do); --json carries it too.'),
  '.SH EXAMPLES',
  ...examples.flatMap(([, command, comment]) => [
    ...(comment ? ['.PP', roff(`${comment[0].toUpperCase()}${comment.slice(1)}:`)] : ['.PP']),
    '.RS',
    '.nf',
    roff(`$ ${command.trimEnd()}`),
    '.fi',
    '.RE',
  ]),
  '.SH SEE ALSO',
  roff(
    'The docs installed with the package (npm root -g)/rotate/docs/: runbook.md, configuration.md, errors.md, policy.md, fleet.md, kubernetes.md, recipes.md, architecture.md, and secrets/ (one page per kind: jwt.md, exchange-key.md, database.md, redis.md, stripe.md, dotenvx.md); README.md beside them.',
  ),
  '.PP',
  '.BR kubectl (1),',
  '.BR dotenvx (1)',
  '(https://dotenvx.com), rotate help \\fIcommand\\fR.',
];
mkdirSync(new URL('../man/', import.meta.url), { recursive: true });
writeFileSync(new URL('../man/rotate.1', import.meta.url), `${page.join('\n')}\n`);

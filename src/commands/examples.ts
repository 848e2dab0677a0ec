import { fileURLToPath } from 'node:url';

/** Examples shown under each command's --help, with the exit codes; the man page is built from the same help. */
const EXAMPLES: Record<string, string[]> = {
  rotate: [
    'rotate --dry-run --all          # CI: check config and reachability, change nothing',
    'rotate jwt                      # rotate one secret now (asks on a terminal)',
    'rotate database redis --yes     # several, without a question (needed off a terminal)',
    'rotate --due --quiet            # cron: whatever is due; never asks',
    'rotate jwt --yes --verbose      # each step on stderr: commands run, URLs checked, timings',
    'rotate redis --yes --emergency --reason "password in a CI log"',
  ],
  status: ['rotate status', 'rotate status --json', 'rotate status --check    # monitoring: exit 1 overdue/failed, 3 needs a person'],
  history: ['rotate history', 'rotate history jwt --limit 5', 'rotate history --verify'],
  verify: ['rotate verify', 'rotate verify database --json', 'rotate verify redis --verbose    # the servers and URLs it checks'],
  rollback: ['rotate rollback jwt', 'rotate rollback database --yes'],
  resume: ['rotate status    # shows the interrupted run', 'rotate resume'],
  init: [
    'rotate init',
    'rotate init --force --config deploy/rotate.config.json',
    'rotate init --from-kubernetes -n cryptoorchestrator --secret cryptoorchestrator-secrets',
    'rotate init --from-kubernetes --context prod --dry-run    # print the config, write nothing',
  ],
  setup: ['rotate setup database           # print the SQL', 'rotate setup database --apply'],
  mark: ['rotate mark stripe --rotated-at 2026-11-30 --reason "rolled in the Dashboard" --yes'],
  check: ['rotate check                # CI: exit 1 when an error-level finding stands', "rotate check --json | jq -r '.results[].id'"],
  leak: [
    'gitleaks detect --report-format json --report-path leaks.json; rotate leak --from leaks.json',
    'rotate leak --from leaks.json --yes --json    # rotate what it found, with the related secrets',
    'secretlint --format json --output report.json "**/*"; rotate leak --from report.json --yes',
  ],
  metrics: ['rotate metrics > /var/lib/node_exporter/textfile/rotate.prom'],
  agent: [
    'rotate agent --once             # systemd timer or cron: one pass',
    'rotate agent --interval 15      # a long-running service',
    'rotate agent --leave            # this host leaves the fleet',
  ],
  backups: ['rotate backups', 'rotate backups restore 2026-12-01T03-15-00-000Z-jwt-a1b2c3 --to ./env.before'],
  completion: [
    'rotate completion bash > /etc/bash_completion.d/rotate',
    'rotate completion zsh > "${fpath[1]}/_rotate"',
    'rotate completion fish > ~/.config/fish/completions/rotate.fish',
  ],
  help: ['rotate help status'],
  version: ['rotate version'],
};

const EXIT_CODES: Record<number, string> = {
  0: 'done (or nothing due; or a dry run whose checks all passed)',
  1: 'a rotation failed and was rolled back; or a dry-run check failed',
  2: 'bad usage or configuration: nothing was touched',
  3: 'needs a person: rotate status says which, rotate resume continues',
  4: 'another rotation holds the lock',
};

/** Commands whose exit 0 or 1 means something of their own (the rest keep the meanings above). */
const OWN_EXIT_CODES: Record<string, Record<number, string>> = {
  check: { 0: 'no error-level finding stands (warnings may)', 1: 'an error-level finding stands' },
  leak: {
    0: 'every finding matched a managed secret (with --yes: they and their related secrets were rotated)',
    1: 'a finding matched no managed secret (reported after the rest); or a rotation failed and was rolled back',
  },
};

/** Commands that return only these codes (they rotate nothing, hold no lock). */
const SOLE_EXIT_CODES: Record<string, Record<number, string>> = {
  init: {
    0: 'the config was written (with --dry-run: printed on stdout)',
    2: 'bad usage, a config already there (without --force), or the Secret could not be read (no context, no Secret, a missing right): nothing was written',
  },
};

const exitCodes = (command: string) =>
  [
    'Exit codes:',
    ...Object.entries(SOLE_EXIT_CODES[command] ?? { ...EXIT_CODES, ...OWN_EXIT_CODES[command] }).map(
      ([code, text]) => `  ${code}  ${text}`,
    ),
  ].join('\n');

/** The docs that ship in the package (README.md, docs/), wherever it is installed. */
const DOCS_DIR = fileURLToPath(new URL('../../docs/', import.meta.url));

/** The text after a command's options: its examples, the exit codes, and (for rotate itself) where the docs are. */
export function helpFooter(command: string, root: boolean): string {
  const examples = (EXAMPLES[command] ?? []).map((line) => `  $ ${line}`).join('\n');
  const docs = root
    ? `\nDocs: ${DOCS_DIR} (runbook.md, configuration.md, errors.md, secrets/), README.md beside it; rotate help <command> for one command.`
    : '';
  return `${examples ? `\nExamples:\n${examples}\n` : ''}\n${exitCodes(command)}\n${docs}`;
}

import { Command, Option } from 'commander';
import * as z from 'zod/mini';
import { ExitCode, usageError } from '../errors.js';
import { lazy } from '../lazy.js';
import { completionWords, LISTS, type ListName } from './completion-words.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';

interface Tree {
  commands: { name: string; description: string; options: string[] }[];
  rootOptions: string[];
  /** The ids of the built-in defaults (one per kind): what `rotate <TAB>` offers besides the commands. */
  secretIds: string[];
}

const longs = (command: Command): string[] => [...command.options.map((o) => o.long).filter((l): l is string => !!l), '--help'];

async function tree(program: Command): Promise<Tree> {
  const { secretKinds } = await import('../secrets/index.js');
  return {
    commands: program.commands.map((c) => ({ name: c.name(), description: c.description(), options: longs(c) })),
    rootOptions: longs(program),
    secretIds: secretKinds.flatMap((kind) => (kind.builtIn ? [kind.builtIn.id] : [])),
  };
}

/** Commands whose first argument is a secret id of the config. */
const TAKES_SECRET = ['history', 'verify', 'rollback', 'setup', 'mark'];

function bash({ commands, rootOptions, secretIds }: Tree): string {
  const cases = commands.map((c) => `    ${c.name}) words="${c.options.join(' ')}" ;;`).join('\n');
  const top = [...commands.map((c) => c.name), ...rootOptions].join(' ');
  // Secret and backup ids are asked of rotate itself at completion time (the config of the current folder); the
  // built-in ids are the fallback when it prints nothing (no config yet).
  return `# rotate completion for bash: source it, or put it in /etc/bash_completion.d/rotate
_rotate_list() {
  local ids
  ids=$(command "\${COMP_WORDS[0]}" completion --list "$1" 2>/dev/null)
  [ -z "$ids" ] && [ "$1" = secrets ] && ids="${secretIds.join(' ')}"
  printf '%s\\n' "$ids"
}
_rotate() {
  local cur=\${COMP_WORDS[COMP_CWORD]} words
  case "\${COMP_WORDS[1]}" in
${cases}
    *) words="${top}" ;;
  esac
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${top} $(_rotate_list secrets)"
  elif [ "\${COMP_WORDS[1]}" = backups ] && [ "$COMP_CWORD" -eq 2 ]; then
    words="restore $words"
  elif [ "\${COMP_WORDS[1]}" = backups ] && [ "\${COMP_WORDS[2]}" = restore ] && [ "$COMP_CWORD" -eq 3 ]; then
    words="$(_rotate_list backups)"
  else
    case "\${COMP_WORDS[1]}" in
      ${TAKES_SECRET.join('|')}) [ "$COMP_CWORD" -eq 2 ] && words="$words $(_rotate_list secrets)" ;;
      -*|[a-z]*) case " ${commands.map((c) => c.name).join(' ')} " in *" \${COMP_WORDS[1]} "*) ;; *) words="$words $(_rotate_list secrets)" ;; esac ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _rotate rotate
`;
}

function zsh(t: Tree): string {
  return `#compdef rotate
# rotate completion for zsh: put it in a folder of $fpath as _rotate (it uses zsh's bash completion support)
autoload -U +X bashcompinit && bashcompinit
${bash(t)}`;
}

function fish({ commands, rootOptions, secretIds }: Tree): string {
  const quote = (text: string) => `'${text.replace(/'/g, "\\'")}'`;
  const lines = ['# rotate completion for fish: put it in ~/.config/fish/completions/rotate.fish', 'complete -c rotate -f'];
  for (const c of commands) lines.push(`complete -c rotate -n __fish_use_subcommand -a ${c.name} -d ${quote(c.description)}`);
  const secrets = `(rotate completion --list secrets 2>/dev/null; or printf '%s\\n' ${secretIds.join(' ')})`;
  lines.push(`complete -c rotate -n __fish_use_subcommand -a ${quote(secrets)} -d 'secret'`);
  lines.push(`complete -c rotate -n '__fish_seen_subcommand_from ${TAKES_SECRET.join(' ')}' -a ${quote(secrets)} -d 'secret'`);
  lines.push(`complete -c rotate -n '__fish_seen_subcommand_from restore' -a '(rotate completion --list backups 2>/dev/null)' -d 'backup'`);
  for (const o of rootOptions) lines.push(`complete -c rotate -n __fish_use_subcommand -l ${o.slice(2)}`);
  for (const c of commands)
    for (const o of c.options) lines.push(`complete -c rotate -n '__fish_seen_subcommand_from ${c.name}' -l ${o.slice(2)}`);
  return `${lines.join('\n')}\n`;
}

const SHELLS = { bash, zsh, fish } as const;

const optionsSchema = lazy(() => z.extend(globalOptionsSchema(), { list: z.optional(z.enum(LISTS)) }));

/**
 * `rotate completion bash|zsh|fish`: a completion script for the shell, from the same command tree as --help.
 * `rotate completion --list secrets|backups` (hidden: the scripts call it on TAB) prints ids one per line, never a value,
 * and nothing at all on any error.
 */
export const completionCommand = defineCommand(
  () =>
    new Command('completion')
      .description('print a shell completion script (bash, zsh or fish)')
      .argument('[shell]', 'bash, zsh or fish')
      .addOption(new Option('--list <what>', 'the ids a completion script offers: secrets or backups').hideHelp()),
  optionsSchema,
  async (options, [shell], command) => {
    if (options.list) {
      const words = await completionWords(options.list as ListName, process.cwd());
      if (words.length) process.stdout.write(`${words.join('\n')}\n`);
      return ExitCode.ok;
    }
    if (shell === undefined)
      throw usageError('USAGE', "missing required argument 'shell'", 'rotate help completion shows its usage and options');
    const write = SHELLS[shell as keyof typeof SHELLS];
    if (!write) throw usageError('USAGE', `no completion for the shell "${shell}"`, 'rotate completion bash | zsh | fish');
    const script = write(await tree(command.parent!)).trimEnd();
    return printResult(options, 'completion', ExitCode.ok, { results: [{ shell, script }] }, () => script);
  },
);

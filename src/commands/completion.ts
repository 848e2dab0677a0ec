import { Command } from 'commander';
import { ExitCode, usageError } from '../errors.js';
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

function bash({ commands, rootOptions, secretIds }: Tree): string {
  const cases = commands.map((c) => `    ${c.name}) words="${c.options.join(' ')}" ;;`).join('\n');
  const top = [...commands.map((c) => c.name), ...secretIds, ...rootOptions].join(' ');
  return `# rotate completion for bash: source it, or put it in /etc/bash_completion.d/rotate
_rotate() {
  local cur=\${COMP_WORDS[COMP_CWORD]} words
  case "\${COMP_WORDS[1]}" in
${cases}
    *) words="${top}" ;;
  esac
  [ "$COMP_CWORD" -eq 1 ] && words="${top}"
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
  for (const id of secretIds) lines.push(`complete -c rotate -n __fish_use_subcommand -a ${id} -d 'secret'`);
  for (const o of rootOptions) lines.push(`complete -c rotate -n __fish_use_subcommand -l ${o.slice(2)}`);
  for (const c of commands)
    for (const o of c.options) lines.push(`complete -c rotate -n '__fish_seen_subcommand_from ${c.name}' -l ${o.slice(2)}`);
  return `${lines.join('\n')}\n`;
}

const SHELLS = { bash, zsh, fish } as const;

/** `rotate completion bash|zsh|fish`: a completion script for the shell, from the same command tree as --help. */
export const completionCommand = defineCommand(
  () =>
    new Command('completion').description('print a shell completion script (bash, zsh or fish)').argument('<shell>', 'bash, zsh or fish'),
  globalOptionsSchema,
  async (options, [shell], command) => {
    const write = SHELLS[shell as keyof typeof SHELLS];
    if (!write) throw usageError('USAGE', `no completion for the shell "${shell}"`, 'rotate completion bash | zsh | fish');
    const script = write(await tree(command.parent!)).trimEnd();
    return printResult(options, 'completion', ExitCode.ok, { results: [{ shell, script }] }, () => script);
  },
);

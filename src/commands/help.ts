import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ExitCode, usageError } from '../errors.js';
import { closest } from '../suggest.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';

/** `rotate help [command]`: the usage of rotate, or of one command; an unknown command is a usage error. */
export const helpCommand = defineCommand(
  () => new Command('help').description('usage of rotate or of one command').argument('[command]', 'the command to explain'),
  globalOptionsSchema,
  async (options, [asked], command) => {
    const program = command.parent!;
    const name = (asked as string | undefined) ?? program.name();
    const target = name === program.name() ? program : program.commands.find((c) => c.name() === name);
    if (!target) {
      // `rotate help jwt`: a kind of secret (or a secret id that names one) has a page of its own, not a usage.
      const page = await kindPage(name);
      if (page) {
        // A kind no secret id names (random) is rotated by the id the config gives its secret.
        const id = page.named ? name : '<secret>';
        const text = `${name} is a kind of secret, not a command: its page is ${page.path}\n  rotate --dry-run ${id} shows what a rotation would do; rotate ${id} rotates it`;
        return printResult(options, 'help', ExitCode.ok, { results: [{ command: name, usage: text, page: page.path }] }, () => text);
      }
      const names = program.commands.map((c) => c.name());
      const guess = closest(name, names);
      throw usageError(
        'USAGE',
        `there is no command "${name}"${guess ? `; did you mean \`rotate help ${guess}\`?` : ''}`,
        `commands: ${names.join(', ')}`,
      );
    }
    if (!options.json) {
      target.outputHelp(); // with the examples and exit codes added after the options
      return ExitCode.ok;
    }
    return printResult(options, 'help', ExitCode.ok, { results: [{ command: name, usage: target.helpInformation() }] }, () => '');
  },
);

/** The installed docs page of the kind `name` names (docs/secrets/<first id, or the kind without one>.md), or undefined. */
async function kindPage(name: string): Promise<{ path: string; named: boolean } | undefined> {
  const { secretKinds } = await import('../secrets/index.js');
  const entry = secretKinds.find((k) => k.kind === name || k.ids.includes(name));
  // dist/bin/<chunk>.js -> the package root, where docs/ ships (package.json "files").
  if (!entry) return undefined;
  const path = fileURLToPath(new URL(`../../docs/secrets/${entry.ids[0] ?? entry.kind}.md`, import.meta.url));
  return { path, named: entry.ids.length > 0 };
}

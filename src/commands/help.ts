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

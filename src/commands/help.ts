import { Command } from 'commander';
import { ExitCode, usageError } from '../errors.js';
import { type ActionRunner, commandOptions, globalOptionsSchema, parseOptions, withGlobalOptions } from './options.js';
import { printResult } from './output.js';
import { closest } from './suggest.js';

/** `rotate help [command]`: the usage of rotate, or of one command; an unknown command is a usage error. */
export function helpCommand(run: ActionRunner): Command {
  return withGlobalOptions(
    new Command('help').description('usage of rotate or of one command').argument('[command]', 'the command to explain'),
  ).action(
    run(async (command) => {
      const options = parseOptions(globalOptionsSchema, commandOptions(command));
      const program = command.parent!;
      const name = (command.processedArgs[0] as string | undefined) ?? program.name();
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
    }),
  );
}

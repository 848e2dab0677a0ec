import { Command } from 'commander';
import { ExitCode, usageError } from '../errors.js';
import { type ActionRunner, withGlobalOptions } from './options.js';
import { closest } from './suggest.js';

/** `rotate help [command]`: the usage of rotate, or of one command; an unknown command is a usage error. */
export function helpCommand(run: ActionRunner): Command {
  return withGlobalOptions(
    new Command('help').description('usage of rotate or of one command').argument('[command]', 'the command to explain'),
  ).action(
    run(async (command) => {
      const program = command.parent!;
      const name = command.processedArgs[0] as string | undefined;
      if (!name || name === program.name()) {
        program.outputHelp();
        return ExitCode.ok;
      }
      const target = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
      if (!target) {
        const names = program.commands.map((c) => c.name());
        const guess = closest(name, names);
        throw usageError(
          'USAGE',
          `there is no command "${name}"${guess ? `; did you mean \`rotate help ${guess}\`?` : ''}`,
          `commands: ${names.join(', ')}`,
        );
      }
      target.outputHelp();
      return ExitCode.ok;
    }),
  );
}

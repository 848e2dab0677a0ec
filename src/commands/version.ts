import { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { type ActionRunner, commandOptions, globalOptionsSchema, parseOptions, withGlobalOptions } from './options.js';
import { printResult } from './output.js';

/** The package's version, put in at build time (scripts/bundle.mjs); tsx and tests read package.json. */
export const VERSION: string = process.env.ROTATE_BUILD_VERSION ?? '0.0.0-dev';

export function versionCommand(run: ActionRunner): Command {
  return withGlobalOptions(new Command('version').description('print the version of rotate')).action(
    run(async (command) =>
      printResult(
        parseOptions(globalOptionsSchema, commandOptions(command)),
        'version',
        ExitCode.ok,
        { results: [{ version: VERSION }] },
        () => VERSION,
      ),
    ),
  );
}

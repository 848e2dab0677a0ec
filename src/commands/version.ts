import { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';

/** The package's version, put in at build time (scripts/bundle.mjs); tsx and tests read package.json. */
export const VERSION: string = process.env.ROTATE_BUILD_VERSION ?? '0.0.0-dev';

export const versionCommand = defineCommand(
  () => new Command('version').description('print the version of rotate'),
  globalOptionsSchema,
  async (options) => printResult(options, 'version', ExitCode.ok, { results: [{ version: VERSION }] }, () => VERSION),
);

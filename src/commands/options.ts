import type { Command } from 'commander';
import * as z from 'zod/mini';
import { usageError } from '../errors.js';
import { lazy } from '../lazy.js';

/** The options every command accepts (CONTRACT.md, Commands); every other option belongs to one command. */
const GLOBAL_OPTIONS = ['json', 'config', 'envFile', 'quiet', 'verbose'] as const;

export const globalOptionsSchema = lazy(() =>
  z.object({
    config: z.optional(z.string()),
    envFile: z.optional(z.string()),
    json: z._default(z.boolean(), false),
    quiet: z._default(z.boolean(), false),
    verbose: z._default(z.boolean(), false),
  }),
);
export type GlobalOptions = z.output<ReturnType<typeof globalOptionsSchema>>;

/** Adds the global options after a command's own, under their own heading in its help. */
function withGlobalOptions(command: Command): Command {
  return command
    .optionsGroup('Options of every command:')
    .option('--json', 'print exactly one JSON document on stdout (also on failure)')
    .option('--config <file>', 'config file (default: ./rotate.config.json, else the built-in defaults)')
    .option('--env-file <file>', 'env file (overrides envFile in the config)')
    .option('-q, --quiet', 'no progress or info on stderr')
    .option('--verbose', 'print each step on stderr: commands run, URLs checked, timings (never a value)')
    .helpOption('-h, --help', 'show this help');
}

/**
 * A command's options, with the global ones also taken from before its name (`rotate --json status`). An option of
 * `rotate <secret>` given before another command's name (`rotate --yes status`) is refused, as after it.
 */
function commandOptions(command: Command): Record<string, unknown> {
  const options: Record<string, unknown> = { ...command.opts() };
  const parent = command.parent;
  if (!parent) return options;
  for (const option of parent.options) {
    const key = option.attributeName();
    if (parent.getOptionValueSource(key) !== 'cli') continue;
    if (!(GLOBAL_OPTIONS as readonly string[]).includes(key)) {
      throw usageError(
        'USAGE',
        `${option.long} is not an option of rotate ${command.name()}; it is an option of a rotation (rotate --help lists them)`,
        `rotate help ${command.name()} shows its usage and options`,
      );
    }
    if (command.getOptionValueSource(key) !== 'cli') options[key] = parent.getOptionValue(key);
  }
  return options;
}

function parseOptions<S extends z.ZodMiniType>(schema: S, raw: unknown, name: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const flag = issue.path.map((key) => `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(' ');
      return `${flag || 'options'}: ${issue.message}`;
    });
    throw usageError('USAGE', issues.join('; '), `rotate help ${name} shows its usage and options`);
  }
  return result.data;
}

/** What a command does: its exit code, from the parsed command (its arguments, options and parent). */
export type CommandAction = (command: Command) => Promise<number>;

/** cli.ts's wrapper around every action: it maps the returned code or a thrown error to the process's exit code. */
export type ActionRunner = (action: CommandAction) => (...args: unknown[]) => Promise<void>;

/** A command's action: its options parsed by its schema (the global ones included), its arguments as commander parsed them. */
export type Action<S extends z.ZodMiniType> = (options: z.output<S>, args: unknown[], command: Command) => Promise<number>;

/**
 * A command as cli.ts adds it: the command with its own arguments and options (the global ones are added after
 * them), the schema its options are parsed with, and its action. cli.ts's runner turns the code the action returns,
 * or the error it throws, into the process's exit code.
 */
export function defineCommand<S extends z.ZodMiniType>(
  build: () => Command,
  schema: () => S,
  action: Action<S>,
): (run: ActionRunner) => Command {
  return (run) =>
    withGlobalOptions(build()).action(
      run((command) => action(parseOptions(schema(), commandOptions(command), command.name()), command.processedArgs, command)),
    );
}

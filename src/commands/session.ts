import * as z from 'zod/mini';
import { formatIssues, loadConfig } from '../config/load.js';
import { processDeps } from '../engine/process-deps.js';
import type { RunOptions, Session } from '../engine/session.js';
import { RotateError, usageError } from '../errors.js';
import { openStore } from '../store/index.js';

/** Options every command takes (CONTRACT.md, Commands). */
export const globalOptionsSchema = z.object({
  config: z.optional(z.string()),
  envFile: z.optional(z.string()),
  json: z._default(z.boolean(), false),
  quiet: z._default(z.boolean(), false),
  verbose: z._default(z.boolean(), false),
});
export type GlobalOptions = z.output<typeof globalOptionsSchema>;

export function parseOptions<S extends z.ZodMiniType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw usageError('USAGE', formatIssues(result.error).join('; '), 'see rotate --help');
  return result.data;
}

const DEFAULT_RUN: RunOptions = { restart: true, emergency: false, unattended: false, allowUnpersisted: false };

/** Loads the config, opens the store and builds the side effects for one invocation. */
export async function openSession(options: GlobalOptions, run: Partial<RunOptions> = {}): Promise<Session> {
  const loaded = await loadConfig({ config: options.config, envFile: options.envFile, cwd: process.cwd() });
  const runOptions = { ...DEFAULT_RUN, ...run };
  const privateEnvNames = Object.values(loaded.config.secrets).flatMap((s) => ('adminUrlEnv' in s && s.adminUrlEnv ? [s.adminUrlEnv] : []));
  const deps = processDeps({ quiet: options.quiet, verbose: options.verbose, unattended: runOptions.unattended, privateEnvNames });
  const store = await openStore(loaded.config, loaded.dir, deps.environment, (m) => deps.log.warn(m));
  return {
    config: loaded.config,
    configDir: loaded.dir,
    configPath: loaded.path,
    envFile: loaded.envFile,
    store,
    deps,
    options: runOptions,
  };
}

/** The named ids, each checked against the config. */
export function resolveSecretIds(session: Session, names: string[]): string[] {
  const known = Object.keys(session.config.secrets);
  for (const name of names) {
    if (!known.includes(name)) {
      throw usageError(
        'UNKNOWN_SECRET',
        `there is no secret "${name}" in ${session.configPath ?? 'the built-in defaults'}`,
        `known secrets: ${known.join(', ')}`,
      );
    }
  }
  return [...new Set(names)];
}

/** Refuses to start while an interrupted run waits for `rotate resume`. */
export async function assertNoPendingRun(session: Session): Promise<void> {
  const journals = await session.store.readJournals();
  if (journals.length === 0) return;
  const names = journals.map((j) => `${j.secret} (${j.mode} ${j.runId} from ${j.host}, ${j.needsPerson ?? 'interrupted'})`);
  throw new RotateError('RUN_PENDING', `an earlier run did not finish: ${names.join('; ')}`, {
    hint: 'run `rotate status` to see it, then `rotate resume` to finish or undo it',
  });
}

import { access, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import * as z from 'zod/mini';
import { ExitCode, usageError } from '../errors.js';
import type { InitInput, InitResult } from '../init/discover.js';
import { lazy } from '../lazy.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';

const optionsSchema = lazy(() =>
  z.extend(globalOptionsSchema(), {
    force: z._default(z.boolean(), false),
    dryRun: z._default(z.boolean(), false),
    fromKubernetes: z._default(z.boolean(), false),
    namespace: z.optional(z.string().check(z.minLength(1))),
    secret: z.optional(z.string().check(z.minLength(1))),
    context: z.optional(z.string().check(z.minLength(1))),
  }),
);

/** The platform's Secret (PLATFORM.md), what --from-kubernetes reads unless --secret names another. */
const PLATFORM_SECRET = 'cryptoorchestrator-secrets';

export const initCommand = defineCommand(
  () =>
    new Command('init')
      .description(
        'write rotate.config.json from the env file and compose file of the current directory, or from a Kubernetes Secret and the workloads that read it',
      )
      .option('--force', 'overwrite an existing config file')
      .option('--dry-run', 'print the config on stdout instead of writing it')
      .option('--from-kubernetes', "read a Secret and the workloads that reference it (the kubeconfig's current context)")
      .option('-n, --namespace <name>', "the Secret's namespace (with --from-kubernetes; default: the context's, else default)")
      .option('--secret <name>', `the Secret to read (with --from-kubernetes; default: ${PLATFORM_SECRET})`)
      .option('--context <name>', 'the kubeconfig context to use and write as target.context (with --from-kubernetes)'),
  optionsSchema,
  init,
);

type InitOptions = z.output<ReturnType<typeof optionsSchema>>;

/** --namespace, --secret and --context say where the Secret is: without --from-kubernetes they mean nothing. */
function checkFlags(options: InitOptions): void {
  const clusterFlag = (['namespace', 'secret', 'context'] as const).find((flag) => options[flag] !== undefined);
  if (clusterFlag && !options.fromKubernetes) {
    throw usageError(
      'USAGE',
      `--${clusterFlag} names where a Kubernetes Secret is; it needs --from-kubernetes`,
      'rotate help init shows its usage and options',
    );
  }
  if (options.fromKubernetes && options.envFile !== undefined) {
    throw usageError(
      'USAGE',
      '--env-file and --from-kubernetes both say where the values are: an env file or a Secret',
      'keep one; rotate help init shows its usage and options',
    );
  }
}

/** A starter config for the platform: every key with its default, each secret (as its kind gives it) saying what it does. */
async function starterConfig(): Promise<Record<string, unknown>> {
  const { secretKinds } = await import('../secrets/index.js');
  return {
    target: { type: 'envfile', files: ['.env'] },
    store: { type: 'file', dir: '.rotate' },
    services: {
      backend: {
        restart: 'docker compose up -d --force-recreate backend',
        health: { url: 'http://localhost:8000/healthz', timeoutSeconds: 60 },
      },
    },
    secrets: Object.fromEntries(
      secretKinds.flatMap((entry) => (entry.builtIn ? [[entry.builtIn.id, { kind: entry.kind, ...entry.starter }]] : [])),
    ),
    notify: { webhookUrl: null },
  };
}

/**
 * Where the editor finds the config schema: the project's own install when there is one (a path that travels with
 * the project), else this installation's copy (a global install), which exists wherever this rotate runs from.
 */
async function schemaPath(configDir: string): Promise<string> {
  const local = join(configDir, 'node_modules/rotate/schema/rotate.config.schema.json');
  try {
    await access(local);
    return './node_modules/rotate/schema/rotate.config.schema.json';
  } catch {
    // dist/bin/<chunk>.js -> the package root
    return fileURLToPath(new URL('../../schema/rotate.config.schema.json', import.meta.url));
  }
}

const readIfThere = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
};

/** The env file's values as the app reads them: a dotenvx-encrypted file decrypted with its key (exit 2 without one). */
async function envValues(path: string, text: string, parseEnv: (text: string) => Record<string, string>) {
  if (!text.includes('encrypted:')) return parseEnv(text);
  const { readEnvFileValues } = await import('../envfile/values.js');
  return (await readEnvFileValues(path, { environment: process.env })).values;
}

/**
 * The config from what is in the folder: the env file's keys and the compose file's services (src/init/), or the
 * starter (every kind, one backend service) when there is no env file to start from.
 */
async function fromEnvFile(configDir: string, envFileOption: string | undefined): Promise<InitResult | undefined> {
  const envPath = resolve(configDir, envFileOption ?? '.env');
  const text = await readIfThere(envPath);
  if (text === undefined) return undefined;
  const { parseEnv } = await import('../envfile/edit.js');
  const { COMPOSE_FILES, composeServices } = await import('../init/compose.js');
  const { discoverConfig } = await import('../init/discover.js');
  const envFile = relative(configDir, envPath) || '.env';
  let compose: InitInput['compose'];
  for (const file of COMPOSE_FILES) {
    const composeText = await readIfThere(join(configDir, file));
    if (composeText === undefined) continue;
    const { parse } = await import('yaml');
    let document: unknown;
    try {
      document = parse(composeText);
    } catch (error) {
      throw usageError(
        'CONFIG_INVALID',
        `${join(configDir, file)} is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
        'fix the compose file (docker compose config shows the error too), then run rotate init again',
      );
    }
    compose = { file, services: composeServices(document, '', envFile) };
    break;
  }
  return discoverConfig({ envFile, env: await envValues(envPath, text, parseEnv), ...(compose ? { compose } : {}) });
}

/** The config from a Kubernetes Secret and the workloads of its namespace that read it (src/init/cluster.ts). */
async function fromKubernetes(options: InitOptions): Promise<InitResult> {
  const { readCluster } = await import('../init/cluster.js');
  const { discoverConfig } = await import('../init/discover.js');
  const cluster = await readCluster({
    secret: options.secret ?? PLATFORM_SECRET,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(options.context ? { context: options.context } : {}),
  });
  return discoverConfig(cluster.input);
}

/** What init read, decided and could not decide, for a person (stderr, after the path on stdout). */
function describe(result: InitResult): string {
  const lines = [
    `read ${result.source}: ${Object.keys(result.config.secrets as object).length} secrets to manage`,
    ...result.decided.map((d) => `  ${d}`),
  ];
  if (result.undecided.length) {
    lines.push(`only you can give (edit ${CONFIG_NAME}):`, ...result.undecided.map((u) => `  ${u.path}: ${u.why}`));
  }
  if (result.unmanaged.length) {
    lines.push(`not managed (they look like credentials; no kind rotates them yet): ${result.unmanaged.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

const CONFIG_NAME = 'rotate.config.json';

/** No key of the env file or Secret is one a kind rotates: the config manages nothing until a person adds secrets. */
const nothingKnown = (found: InitResult) => Object.keys(found.config.secrets as object).length === 0;
const nothingKnownLine = (found: InitResult) =>
  `next: no key of ${found.source} is one a kind rotates: add secrets by hand (docs/configuration.md; the random kind for other credentials, docs/secrets/random.md)\n`;

async function init(options: InitOptions): Promise<number> {
  checkFlags(options);
  const { CONFIG_FILE, parseConfig } = await import('../config/load.js');
  const path = resolve(process.cwd(), options.config ?? CONFIG_FILE);
  const found = options.fromKubernetes ? await fromKubernetes(options) : await fromEnvFile(dirname(path), options.envFile);
  const starter: Record<string, unknown> = { $schema: await schemaPath(dirname(path)), ...(found?.config ?? (await starterConfig())) };
  parseConfig(starter, found ? 'the config init discovered' : 'the starter config');
  const details = found ? { source: found.source, decided: found.decided, undecided: found.undecided, unmanaged: found.unmanaged } : {};
  if (options.dryRun) {
    // The config on stdout, nothing written: `rotate init --dry-run > rotate.config.json` is the same as init.
    if (!options.quiet && found) process.stderr.write(`${describe(found)}${nothingKnown(found) ? nothingKnownLine(found) : ''}`);
    if (options.json)
      return printResult(options, 'init', ExitCode.ok, { results: [{ path, written: false, config: starter, ...details }] }, () => '');
    process.stdout.write(`${JSON.stringify(starter, null, 2)}\n`);
    return ExitCode.ok;
  }
  try {
    await writeFile(path, `${JSON.stringify(starter, null, 2)}\n`, { flag: options.force ? 'w' : 'wx', mode: 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw usageError('CONFIG_EXISTS', `${path} already exists; nothing was written`, 'use --force to overwrite it');
    }
    throw error;
  }
  if (!options.quiet) {
    if (found) process.stderr.write(describe(found));
    process.stderr.write(
      found && nothingKnown(found)
        ? nothingKnownLine(found)
        : found
          ? `next: ${found.undecided.length ? 'give the values above, then ' : ''}run \`rotate --dry-run --all\`\n`
          : 'no env file here to start from: wrote the starter; edit services.backend and the verify URLs, then run `rotate --dry-run --all`\n',
    );
  }
  return printResult(options, 'init', ExitCode.ok, { results: [{ path, written: true, ...details }] }, () => `wrote ${path}`);
}

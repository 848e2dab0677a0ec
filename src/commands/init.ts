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

const optionsSchema = lazy(() => z.extend(globalOptionsSchema(), { force: z._default(z.boolean(), false) }));

export const initCommand = defineCommand(
  () =>
    new Command('init')
      .description('write rotate.config.json from the env file and compose file of the current directory')
      .option('--force', 'overwrite an existing config file'),
  optionsSchema,
  init,
);

/** A starter config for the platform: every key with its default, each secret (as its kind gives it) saying what it does. */
async function starterConfig(): Promise<Record<string, unknown>> {
  const { secretKinds } = await import('../secrets/index.js');
  return {
    envFile: '.env',
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
async function discovered(configDir: string, envFileOption: string | undefined): Promise<InitResult | undefined> {
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

/** What init read, decided and could not decide, for a person (stderr, after the path on stdout). */
function describe(result: InitResult, envFile: string): string {
  const lines = [
    `read ${envFile}: ${Object.keys(result.config.secrets as object).length} secrets to manage`,
    ...result.decided.map((d) => `  ${d}`),
  ];
  if (result.undecided.length) {
    lines.push('only you can give (edit rotate.config.json):', ...result.undecided.map((u) => `  ${u.path}: ${u.why}`));
  }
  if (result.unmanaged.length) {
    lines.push(`not managed (they look like credentials; no kind rotates them yet): ${result.unmanaged.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

async function init(options: z.output<ReturnType<typeof optionsSchema>>): Promise<number> {
  const { CONFIG_FILE, parseConfig } = await import('../config/load.js');
  const path = resolve(process.cwd(), options.config ?? CONFIG_FILE);
  const found = await discovered(dirname(path), options.envFile);
  const starter: Record<string, unknown> = { $schema: await schemaPath(dirname(path)), ...(found?.config ?? (await starterConfig())) };
  parseConfig(starter, found ? 'the config init discovered' : 'the starter config');
  try {
    await writeFile(path, `${JSON.stringify(starter, null, 2)}\n`, { flag: options.force ? 'w' : 'wx', mode: 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw usageError('CONFIG_EXISTS', `${path} already exists; nothing was written`, 'use --force to overwrite it');
    }
    throw error;
  }
  if (!options.quiet) {
    if (found) process.stderr.write(describe(found, String(starter.envFile)));
    process.stderr.write(
      found
        ? `next: ${found.undecided.length ? 'give the values above, then ' : ''}run \`rotate --dry-run --all\`\n`
        : 'no env file here to start from: wrote the starter; edit services.backend and the verify URLs, then run `rotate --dry-run --all`\n',
    );
  }
  const details = found ? { decided: found.decided, undecided: found.undecided, unmanaged: found.unmanaged } : {};
  return printResult(options, 'init', ExitCode.ok, { results: [{ path, written: true, ...details }] }, () => `wrote ${path}`);
}

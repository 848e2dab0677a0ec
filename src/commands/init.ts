import { access, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import * as z from 'zod/mini';
import { ExitCode, usageError } from '../errors.js';
import { lazy } from '../lazy.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';

const optionsSchema = lazy(() => z.extend(globalOptionsSchema(), { force: z._default(z.boolean(), false) }));

export const initCommand = defineCommand(
  () =>
    new Command('init')
      .description('write a starter rotate.config.json for the current directory')
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
    secrets: Object.fromEntries(secretKinds.map((entry) => [entry.builtIn.id, { kind: entry.kind, ...entry.starter }])),
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

async function init(options: z.output<ReturnType<typeof optionsSchema>>): Promise<number> {
  const { CONFIG_FILE, parseConfig } = await import('../config/load.js');
  const path = resolve(process.cwd(), options.config ?? CONFIG_FILE);
  const starter = { $schema: await schemaPath(dirname(path)), ...(await starterConfig()) };
  parseConfig(starter, 'the starter config');
  try {
    await writeFile(path, `${JSON.stringify(starter, null, 2)}\n`, { flag: options.force ? 'w' : 'wx', mode: 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw usageError('CONFIG_EXISTS', `${path} already exists; nothing was written`, 'use --force to overwrite it');
    }
    throw error;
  }
  if (!options.quiet) process.stderr.write('next: edit services.backend and the verify URLs, then run `rotate --dry-run --all`\n');
  return printResult(options, 'init', ExitCode.ok, { results: [{ path, written: true }] }, () => `wrote ${path}`);
}

import { access, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import * as z from 'zod/mini';
import { ExitCode, usageError } from '../errors.js';
import { type ActionRunner, commandOptions, globalOptionsSchema, parseOptions, withGlobalOptions } from './options.js';
import { printResult } from './output.js';

const optionsSchema = z.extend(globalOptionsSchema, { force: z._default(z.boolean(), false) });

export function initCommand(run: ActionRunner): Command {
  return withGlobalOptions(
    new Command('init')
      .description('write a starter rotate.config.json for the current directory')
      .option('--force', 'overwrite an existing config file'),
  ).action(run((command) => init(parseOptions(optionsSchema, commandOptions(command)))));
}

/** A starter config for the platform: every key with its default, each secret saying what it does. */
export const STARTER_CONFIG = {
  envFile: '.env',
  store: { type: 'file', dir: '.rotate' },
  services: {
    backend: {
      restart: 'docker compose up -d --force-recreate backend',
      health: { url: 'http://localhost:8000/healthz', timeoutSeconds: 60 },
    },
  },
  secrets: {
    jwt: {
      kind: 'jwt',
      description: 'HS256 signing secret; graceHours > 0 keeps the old one in JWT_SECRET_PREVIOUS for that long',
      env: 'JWT_SECRET',
      intervalDays: 90,
      services: ['backend'],
      graceHours: 0,
      verify: { url: 'http://localhost:8000/api/auth/me', claims: { id: '1' } },
    },
    'exchange-key': {
      kind: 'exchange-key',
      description: 'Fernet key of the exchange API keys; every encrypted column is re-encrypted',
      env: 'EXCHANGE_KEY_ENCRYPTION_KEY',
      intervalDays: 180,
      services: ['backend'],
      databaseUrlEnv: 'DATABASE_URL',
      tables: [{ table: 'exchange_api_keys', key: 'id', columns: ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'] }],
    },
    database: {
      kind: 'postgres',
      description:
        'password of the role in DATABASE_URL; set ROTATE_DATABASE_ADMIN_URL in the environment, or remove adminUrlEnv to let the role change its own',
      env: 'DATABASE_URL',
      intervalDays: 90,
      services: ['backend'],
      strategy: 'alter-password',
      adminUrlEnv: 'ROTATE_DATABASE_ADMIN_URL',
      alsoUpdate: ['POSTGRES_PASSWORD'],
    },
    redis: {
      kind: 'redis',
      description: 'password of the Redis user in REDIS_URL (ACL: old and new overlap until the app is verified)',
      env: 'REDIS_URL',
      alsoUpdate: ['REDIS_PASSWORD', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'],
      intervalDays: 90,
      services: ['backend'],
      strategy: 'acl',
    },
    stripe: {
      kind: 'stripe',
      description:
        'roll the secret key in the Stripe Dashboard, then hand it in (ROTATE_NEW_STRIPE_SECRET_KEY, stdin or prompt); the webhook secret is rotated by rotate',
      intervalDays: 90,
      services: ['backend'],
      env: { secretKey: 'STRIPE_SECRET_KEY', publishableKey: 'STRIPE_PUBLISHABLE_KEY', webhookSecret: 'STRIPE_WEBHOOK_SECRET' },
      apiBase: 'https://api.stripe.com',
      webhook: { url: 'https://app.example.com/api/billing/webhook', verifyUrl: 'http://localhost:8000/api/billing/webhook' },
    },
  },
  notify: { webhookUrl: null },
};

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

async function init(options: z.output<typeof optionsSchema>): Promise<number> {
  const { CONFIG_FILE, parseConfig } = await import('../config/load.js');
  const path = resolve(process.cwd(), options.config ?? CONFIG_FILE);
  const starter = { $schema: await schemaPath(dirname(path)), ...STARTER_CONFIG };
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

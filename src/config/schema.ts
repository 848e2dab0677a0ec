import { z } from 'zod';

/** Names of environment variables: what `.env` files and shells accept. */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name like JWT_SECRET');

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

export const serviceSchema = z.strictObject({
  /** Shell command run with /bin/sh -c in the config's folder; it must re-read the env file (recreate, not restart). */
  restart: z.string().min(1).optional(),
  health: z
    .strictObject({
      url: httpUrl,
      timeoutSeconds: z.number().positive().max(3600).default(60),
    })
    .optional(),
});

const common = {
  intervalDays: z.number().positive(),
  services: z.array(z.string().min(1)).default([]),
  /** Hours the old value stays valid after a rotation; 0 retires it at once. */
  graceHours: z.number().min(0).default(0),
  description: z.string().optional(),
};

export const jwtSecretSchema = z.strictObject({
  kind: z.literal('jwt'),
  env: envName.default('JWT_SECRET'),
  /** Where the old value lives during the grace period. */
  previousEnv: envName.optional(),
  ...common,
  intervalDays: common.intervalDays.default(90),
  verify: z
    .strictObject({
      url: httpUrl,
      claims: z.record(z.string(), z.unknown()).default({ id: '1' }),
      expiresInSeconds: z.number().int().positive().max(3600).default(120),
    })
    .optional(),
});

export const exchangeKeyTableSchema = z.strictObject({
  table: z.string().min(1),
  key: z.string().min(1).default('id'),
  columns: z.array(z.string().min(1)).min(1),
});

export const exchangeKeySecretSchema = z.strictObject({
  kind: z.literal('exchange-key'),
  env: envName.default('EXCHANGE_KEY_ENCRYPTION_KEY'),
  ...common,
  intervalDays: common.intervalDays.default(180),
  databaseUrlEnv: envName.default('DATABASE_URL'),
  tables: z
    .array(exchangeKeyTableSchema)
    .min(1)
    .default([
      {
        table: 'exchange_api_keys',
        key: 'id',
        columns: ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'],
      },
    ]),
  batchSize: z.number().int().min(1).max(100_000).default(2000),
  /** A route of the app that decrypts stored keys (2xx when it can): checked after the restart. */
  verify: z.strictObject({ url: httpUrl }).optional(),
  /** The platform's key derivation: Fernet key = PBKDF2-HMAC-SHA256(env value, salt, iterations, 32). */
  kdf: z
    .strictObject({
      salt: z.string().default('crypto_orchestrator_salt'),
      iterations: z.number().int().min(1).default(100_000),
    })
    .prefault({}),
});

export const postgresSecretSchema = z.strictObject({
  kind: z.literal('postgres'),
  env: envName.default('DATABASE_URL'),
  ...common,
  intervalDays: common.intervalDays.default(90),
  strategy: z.enum(['alter-password', 'alternate-roles']).default('alter-password'),
  /** Name of an environment variable holding an admin connection URL (never the URL itself). */
  adminUrlEnv: envName.optional(),
  alsoUpdate: z.array(envName).default([]),
  /** alternate-roles: the two login roles and the NOLOGIN role that owns the app's objects. */
  roles: z
    .strictObject({
      owner: z.string().min(1),
      logins: z.tuple([z.string().min(1), z.string().min(1)]),
    })
    .optional(),
});

export const redisSecretSchema = z.strictObject({
  kind: z.literal('redis'),
  env: envName.default('REDIS_URL'),
  ...common,
  intervalDays: common.intervalDays.default(90),
  strategy: z.enum(['acl', 'requirepass']).default('acl'),
  alsoUpdate: z.array(envName).default([]),
  /** Name of an environment variable holding an admin URL for ACL changes (defaults to the app's own URL). */
  adminUrlEnv: envName.optional(),
  /** Rotate even when the server cannot persist the new password (it would be lost on a Redis restart). */
  allowUnpersisted: z.boolean().default(false),
});

export const stripeSecretSchema = z.strictObject({
  kind: z.literal('stripe'),
  ...common,
  intervalDays: common.intervalDays.default(90),
  env: z
    .strictObject({
      secretKey: envName.default('STRIPE_SECRET_KEY'),
      publishableKey: envName.default('STRIPE_PUBLISHABLE_KEY'),
      webhookSecret: envName.default('STRIPE_WEBHOOK_SECRET'),
    })
    .prefault({}),
  apiBase: z
    .url({ protocol: /^https?$/ })
    .default('https://api.stripe.com')
    .refine((value) => {
      const url = new URL(value);
      return url.protocol === 'https:' || isLoopback(url.hostname);
    }, 'apiBase must use https unless its host is loopback (127.0.0.1, localhost, ::1)'),
  webhook: z
    .strictObject({
      url: httpUrl.optional(),
      endpointId: z.string().startsWith('we_').optional(),
      verifyUrl: httpUrl.optional(),
    })
    .optional(),
});

export const KINDS = ['jwt', 'exchange-key', 'postgres', 'redis', 'stripe'] as const;
export type Kind = (typeof KINDS)[number];

/** `"jwt": {}` is enough: a secret whose id names a kind gets that kind. */
const KIND_BY_ID: Record<string, Kind> = {
  jwt: 'jwt',
  'exchange-key': 'exchange-key',
  database: 'postgres',
  postgres: 'postgres',
  redis: 'redis',
  stripe: 'stripe',
};

export const secretSchema = z.discriminatedUnion('kind', [
  jwtSecretSchema,
  exchangeKeySecretSchema,
  postgresSecretSchema,
  redisSecretSchema,
  stripeSecretSchema,
]);

const secretIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a secret id of lowercase letters, digits and -');

export const DEFAULT_SECRETS = {
  jwt: { kind: 'jwt' },
  'exchange-key': { kind: 'exchange-key' },
  database: { kind: 'postgres' },
  redis: { kind: 'redis', alsoUpdate: ['CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'] },
  stripe: { kind: 'stripe' },
} as const;

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  envFile: z.string().min(1).default('.env'),
  store: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('file'), dir: z.string().min(1).default('.rotate') }),
      z.strictObject({
        type: z.literal('postgres'),
        /** Name of the environment variable holding the store's connection URL. */
        urlEnv: envName.default('ROTATE_STORE_URL'),
        schema: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('rotate'),
      }),
    ])
    .prefault({ type: 'file' }),
  services: z.record(z.string().min(1), serviceSchema).default({}),
  secrets: z
    .preprocess(
      (value) => {
        if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
        return Object.fromEntries(
          Object.entries(value).map(([id, secret]) => {
            const kind = KIND_BY_ID[id];
            if (kind && secret && typeof secret === 'object' && !('kind' in secret)) return [id, { kind, ...secret }];
            return [id, secret];
          }),
        );
      },
      z.record(secretIdSchema, secretSchema),
    )
    .prefault(DEFAULT_SECRETS as never),
  notify: z
    .strictObject({ webhookUrl: httpUrl.nullable().default(null) })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type SecretConfig = z.output<typeof secretSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type JwtSecretConfig = z.output<typeof jwtSecretSchema>;
export type ExchangeKeySecretConfig = z.output<typeof exchangeKeySecretSchema>;
export type PostgresSecretConfig = z.output<typeof postgresSecretSchema>;
export type RedisSecretConfig = z.output<typeof redisSecretSchema>;
export type StripeSecretConfig = z.output<typeof stripeSecretSchema>;
export type SecretConfigOf<K extends Kind> = Extract<SecretConfig, { kind: K }>;

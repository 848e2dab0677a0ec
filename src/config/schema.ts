// zod/mini: the same validation as zod's classic API at a tenth of the bundle, which `rotate status` loads at start-up.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { notifySchema } from '../notify/schema.js';
import { windowSchema } from '../schedule/window.js';
import { isInsecureVerifyUrl } from './private-host.js';

z.config(en());

/** Names of environment variables: what `.env` files and shells accept. */
const envName = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name like JWT_SECRET'));

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

/** A Kubernetes workload restarted the way `kubectl rollout restart` does (src/services/kubernetes.ts). */
export const kubernetesWorkloadSchema = z.strictObject({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
  name: z.string().check(z.minLength(1)),
  /** Defaults to the namespace of `target` (a Kubernetes Secret). */
  namespace: z.optional(z.string().check(z.minLength(1))),
});

export const serviceSchema = z
  .strictObject({
    /** Shell command run with /bin/sh -c in the config's folder; it must re-read the env file (recreate, not restart). */
    restart: z.optional(z.string().check(z.minLength(1))),
    kubernetes: z.optional(kubernetesWorkloadSchema),
    health: z.optional(
      z.strictObject({
        url: httpUrl,
        timeoutSeconds: z._default(z.number().check(z.positive(), z.lte(3600)), 60),
      }),
    ),
  })
  .check(z.refine((service) => !(service.restart && service.kubernetes), '`restart` and `kubernetes` are alternatives: keep one'));

const nonEmpty = () => z.string().check(z.minLength(1));
// A newline in a role name would start a line of its own in SQL and logs (src/connection/postgres-url.ts).
const roleName = () =>
  nonEmpty().check(z.refine((name) => !/[\u0000-\u001f\u007f-\u009f]/.test(name), 'a role name cannot hold a control character'));
const intervalDays = (days: number) => z._default(z.number().check(z.positive()), days);

const common = {
  services: z._default(z.array(nonEmpty()), []),
  /** Hours the old value stays valid after a rotation; 0 retires it at once. */
  graceHours: z._default(z.number().check(z.gte(0)), 0),
  description: z.optional(z.string()),
  /** When `--due` may rotate this secret; overrides the top-level `window`. */
  window: z.optional(windowSchema),
};

export const jwtSecretSchema = z
  .strictObject({
    kind: z.literal('jwt'),
    env: z._default(envName, 'JWT_SECRET'),
    /** Where the old value lives during the grace period. */
    previousEnv: z.optional(envName),
    /** Other keys holding the same secret as a bare copy: written with the same new value. */
    alsoUpdate: z._default(z.array(envName), []),
    ...common,
    intervalDays: intervalDays(90),
    verify: z.optional(
      z.strictObject({
        url: httpUrl,
        claims: z._default(z.record(z.string(), z.unknown()), { id: '1' }),
        expiresInSeconds: z._default(z.int().check(z.positive(), z.lte(3600)), 120),
      }),
    ),
    /** Lets `verify.url` be plain http to a public host (the signed token then crosses the network in clear text). */
    allowInsecureVerify: z._default(z.boolean(), false),
  })
  .check(
    z.refine((secret) => secret.allowInsecureVerify || !secret.verify || !isInsecureVerifyUrl(secret.verify.url), {
      message:
        'plain http to a host that is not loopback or a private address would send a token signed with the live secret in clear text: use https, or set "allowInsecureVerify": true',
      path: ['verify', 'url'],
    }),
  );

export const exchangeKeyTableSchema = z.strictObject({
  table: nonEmpty(),
  key: z._default(nonEmpty(), 'id'),
  columns: z.array(nonEmpty()).check(z.minLength(1)),
});

export const exchangeKeySecretSchema = z.strictObject({
  kind: z.literal('exchange-key'),
  env: z._default(envName, 'EXCHANGE_KEY_ENCRYPTION_KEY'),
  /** Other keys holding the same key as a bare copy: written with the same new value. */
  alsoUpdate: z._default(z.array(envName), []),
  ...common,
  intervalDays: intervalDays(180),
  databaseUrlEnv: z._default(envName, 'DATABASE_URL'),
  tables: z._default(z.array(exchangeKeyTableSchema).check(z.minLength(1)), [
    {
      table: 'exchange_api_keys',
      key: 'id',
      columns: ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'],
    },
  ]),
  batchSize: z._default(z.int().check(z.gte(1), z.lte(100_000)), 2000),
  /** A route of the app that decrypts stored keys (2xx when it can): checked after the restart. */
  verify: z.optional(z.strictObject({ url: httpUrl })),
  /** The platform's key derivation: Fernet key = PBKDF2-HMAC-SHA256(env value, salt, iterations, 32). */
  kdf: z.prefault(
    z.strictObject({
      salt: z._default(z.string(), 'crypto_orchestrator_salt'),
      iterations: z._default(z.int().check(z.gte(1)), 100_000),
    }),
    {},
  ),
});

export const postgresSecretSchema = z.strictObject({
  kind: z.literal('postgres'),
  env: z._default(envName, 'DATABASE_URL'),
  ...common,
  intervalDays: intervalDays(90),
  strategy: z._default(z.enum(['alter-password', 'alternate-roles']), 'alter-password'),
  /** Name of an environment variable holding an admin connection URL (never the URL itself). */
  adminUrlEnv: z.optional(envName),
  alsoUpdate: z._default(z.array(envName), []),
  /** alternate-roles: the two login roles and the NOLOGIN role that owns the app's objects. */
  roles: z.optional(
    z.strictObject({
      owner: roleName(),
      logins: z.tuple([roleName(), roleName()]),
    }),
  ),
});

export const redisSecretSchema = z.strictObject({
  kind: z.literal('redis'),
  env: z._default(envName, 'REDIS_URL'),
  ...common,
  intervalDays: intervalDays(90),
  strategy: z._default(z.enum(['acl', 'requirepass']), 'acl'),
  alsoUpdate: z._default(z.array(envName), []),
  /** Name of an environment variable holding an admin URL for ACL changes (defaults to the app's own URL). */
  adminUrlEnv: z.optional(envName),
  /** Rotate even when the server cannot persist the new password (it would be lost on a Redis restart). */
  allowUnpersisted: z._default(z.boolean(), false),
});

export const stripeSecretSchema = z.strictObject({
  kind: z.literal('stripe'),
  ...common,
  intervalDays: intervalDays(90),
  env: z.prefault(
    z.strictObject({
      secretKey: z._default(envName, 'STRIPE_SECRET_KEY'),
      publishableKey: z._default(envName, 'STRIPE_PUBLISHABLE_KEY'),
      webhookSecret: z._default(envName, 'STRIPE_WEBHOOK_SECRET'),
    }),
    {},
  ),
  apiBase: z._default(
    z.url({ protocol: /^https?$/ }).check(
      z.refine((value) => {
        const url = new URL(value);
        return url.protocol === 'https:' || isLoopback(url.hostname);
      }, 'apiBase must use https unless its host is loopback (127.0.0.1, localhost, ::1)'),
    ),
    'https://api.stripe.com',
  ),
  webhook: z.optional(
    z.strictObject({
      url: z.optional(httpUrl),
      endpointId: z.optional(z.string().check(z.startsWith('we_'))),
      verifyUrl: z.optional(httpUrl),
    }),
  ),
});

export const KINDS = ['jwt', 'exchange-key', 'postgres', 'redis', 'stripe'] as const;
export type Kind = (typeof KINDS)[number];

/** `"jwt": {}` is enough: a secret whose id names a kind gets that kind. */
export const KIND_BY_ID: Record<string, Kind> = {
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

const secretIdSchema = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a secret id of lowercase letters, digits and -'));

export const DEFAULT_SECRETS = {
  jwt: { kind: 'jwt' },
  'exchange-key': { kind: 'exchange-key' },
  database: { kind: 'postgres', alsoUpdate: ['POSTGRES_PASSWORD'] },
  redis: { kind: 'redis', alsoUpdate: ['REDIS_PASSWORD', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'] },
  stripe: { kind: 'stripe' },
} as const;

/** Backups kept per secret: 1 (the env file before its last rotation) unless more are asked for. */
const keepBackups = z._default(z.int().check(z.positive()), 1);

/** Where a run reads and writes values: the env files (default) or a Kubernetes Secret. */
export const targetSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('envfile') }),
  z.strictObject({
    type: z.literal('kubernetes'),
    namespace: nonEmpty(),
    secret: nonEmpty(),
    /** A kubeconfig context; the current one when absent. */
    context: z.optional(nonEmpty()),
  }),
]);

export const configSchema = z.strictObject({
  $schema: z.optional(z.string()),
  /** One env file or several that must hold the same values (relative to the config's folder). */
  envFile: z._default(z.union([nonEmpty(), z.array(nonEmpty()).check(z.minLength(1))]), '.env'),
  target: z._default(targetSchema, { type: 'envfile' }),
  store: z.prefault(
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('file'), dir: z._default(nonEmpty(), '.rotate'), keepBackups }),
      z.strictObject({
        type: z.literal('postgres'),
        keepBackups,
        /** Name of the environment variable holding the store's connection URL. */
        urlEnv: z._default(envName, 'ROTATE_STORE_URL'),
        schema: z._default(z.string().check(z.regex(/^[a-z_][a-z0-9_]*$/)), 'rotate'),
      }),
    ]),
    { type: 'file' },
  ),
  services: z._default(z.record(nonEmpty(), serviceSchema), {}),
  secrets: z.prefault(
    z.pipe(
      z.transform((value: unknown) => {
        if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
        return Object.fromEntries(
          Object.entries(value).map(([id, secret]) => {
            const kind = KIND_BY_ID[id];
            if (kind && secret && typeof secret === 'object' && !('kind' in secret)) return [id, { kind, ...secret }];
            return [id, secret];
          }),
        );
      }),
      z.record(secretIdSchema, secretSchema),
    ),
    DEFAULT_SECRETS as never,
  ),
  notify: z.prefault(notifySchema, {}),
  /** When `--due` may rotate (a secret's own `window` wins). */
  window: z.optional(windowSchema),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type SecretConfig = z.output<typeof secretSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type KubernetesWorkloadConfig = z.output<typeof kubernetesWorkloadSchema>;
export type JwtSecretConfig = z.output<typeof jwtSecretSchema>;
export type ExchangeKeySecretConfig = z.output<typeof exchangeKeySecretSchema>;
export type PostgresSecretConfig = z.output<typeof postgresSecretSchema>;
export type RedisSecretConfig = z.output<typeof redisSecretSchema>;
export type StripeSecretConfig = z.output<typeof stripeSecretSchema>;
export type SecretConfigOf<K extends Kind> = Extract<SecretConfig, { kind: K }>;

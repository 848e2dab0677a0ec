// zod/mini: the same validation as zod's classic API at a tenth of the bundle, which `rotate status` loads at start-up.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { notifySchema } from '../notify/schema.js';
import { environmentName, promotionSchema } from '../policy/schema.js';
import { windowSchema } from '../schedule/window.js';
import { dotenvxSecretSchema } from '../secrets/dotenvx/kind.js';
import { exchangeKeySecretSchema } from '../secrets/exchange-key/kind.js';
import { secretKinds } from '../secrets/index.js';
import { jwtSecretSchema } from '../secrets/jwt/kind.js';
import { postgresSecretSchema } from '../secrets/postgres/kind.js';
import { randomSecretSchema } from '../secrets/random/kind.js';
import { redisSecretSchema } from '../secrets/redis/kind.js';
import { stripeSecretSchema } from '../secrets/stripe/kind.js';
import { envName, httpUrl, nonEmpty } from './fields.js';

z.config(en());

/** A Kubernetes workload restarted the way `kubectl rollout restart` does (src/services/kubernetes.ts). */
export const kubernetesWorkloadSchema = z.strictObject({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
  name: z.string().check(z.minLength(1)),
  /** Defaults to the namespace of `target` (a Kubernetes Secret). */
  namespace: z.optional(z.string().check(z.minLength(1))),
});

const healthSchema = z.strictObject({
  url: httpUrl,
  timeoutSeconds: z._default(z.number().check(z.positive(), z.lte(3600)), 60),
});

/** The `{i}` of a counted service's restart and health URL: the replica's number, 1 to instances. */
export const INSTANCE_PLACEHOLDER = '{i}';

/** One replica of a service, restarted on its own and waited for before the next (src/services/instances.ts). */
export const instanceSchema = z.strictObject({
  restart: z.string().check(z.minLength(1)),
  health: z.optional(healthSchema),
});

export const serviceSchema = z
  .strictObject({
    /** Shell command run with /bin/sh -c in the config's folder; it must re-read the env file (recreate, not restart). */
    restart: z.optional(z.string().check(z.minLength(1))),
    kubernetes: z.optional(kubernetesWorkloadSchema),
    // A counted service's URL holds `{i}` (a port 800{i}), which is no URL until the number replaces it.
    health: z.optional(
      z.strictObject({
        url: z
          .string()
          .check(z.refine((url) => httpUrl.safeParse(url.replaceAll(INSTANCE_PLACEHOLDER, '1')).success, 'expected an http(s) URL')),
        timeoutSeconds: z._default(z.number().check(z.positive(), z.lte(3600)), 60),
      }),
    ),
    /** Replicas restarted one at a time: a list of their own restart and health, or a count of `{i}` copies. */
    instances: z.optional(z.union([z.array(instanceSchema).check(z.minLength(1)), z.int().check(z.positive(), z.lte(64))])),
  })
  .check(
    z.refine((service) => !(service.restart && service.kubernetes), '`restart` and `kubernetes` are alternatives: keep one'),
    z.refine(
      (service) => !(service.instances && service.kubernetes),
      '`instances` restarts shell commands: a Kubernetes rollout already goes one pod at a time',
    ),
    z.refine(
      (service) => !Array.isArray(service.instances) || !(service.restart || service.health),
      'a list of `instances` gives each replica its restart and health: move `restart` and `health` into them',
    ),
    z.refine(
      (service) => typeof service.instances !== 'number' || Boolean(service.restart?.includes(INSTANCE_PLACEHOLDER)),
      '`instances` as a count needs `restart` with {i} (the replica number), e.g. "systemctl restart app@{i}"',
    ),
    z.refine(
      (service) => typeof service.instances === 'number' || !service.health?.url.includes(INSTANCE_PLACEHOLDER),
      '{i} in `health.url` needs `instances` as a count',
    ),
  );

/** `"jwt": {}` is enough: a secret whose id names a kind gets that kind. */
export const KIND_BY_ID: Readonly<Record<string, Kind>> = Object.fromEntries(
  secretKinds.flatMap((entry) => entry.ids.map((id) => [id, entry.kind])),
);

export const secretSchema = z.discriminatedUnion('kind', [
  jwtSecretSchema,
  exchangeKeySecretSchema,
  postgresSecretSchema,
  redisSecretSchema,
  stripeSecretSchema,
  dotenvxSecretSchema,
  randomSecretSchema,
]);

const secretIdSchema = z.string().check(z.regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a secret id of lowercase letters, digits and -'));

/** The secrets of a config that names none: the platform's, one per kind, as each kind declares it. */
export const DEFAULT_SECRETS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = Object.fromEntries(
  secretKinds.flatMap((entry) => (entry.builtIn ? [[entry.builtIn.id, { kind: entry.kind, ...entry.builtIn.config }]] : [])),
);

/** Backups kept per secret: 1 (the env file before its last rotation) unless more are asked for. */
const keepBackups = z._default(z.int().check(z.positive()), 1);

const envFiles = z.union([nonEmpty(), z.array(nonEmpty()).check(z.minLength(1))]);

/** Where a run reads and writes values: the env files (default) or a Kubernetes Secret. */
export const targetSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('envfile'),
    /** One env file or several that must hold the same values (relative to the config's folder); default: `envFile`. */
    files: z.optional(envFiles),
  }),
  z.strictObject({
    type: z.literal('kubernetes'),
    namespace: nonEmpty(),
    secret: nonEmpty(),
    /** A kubeconfig context; the current one when absent. */
    context: z.optional(nonEmpty()),
    /** The file the Secret is deployed from (a Secret manifest or an env file), written together with the Secret. */
    source: z.optional(
      z.strictObject({
        file: nonEmpty(),
        /** Git delivery: commit only the file and push it; a GitOps controller applies it (src/target/git-delivery.ts). */
        git: z.optional(z.strictObject({ remote: z._default(nonEmpty(), 'origin'), branch: nonEmpty() })),
        /** With `git`: how long the converge step waits for the live Secret to hold the new value. */
        convergeSeconds: z._default(z.number().check(z.positive(), z.lte(86_400)), 600),
      }),
    ),
  }),
]);

export const configSchema = z
  .strictObject({
    $schema: z.optional(z.string()),
    /** The environment this config rotates (`staging`, `production`), recorded with every run. */
    environment: z.optional(environmentName),
    /** The staging-first gate (src/policy/promotion.ts); a secret's own `promotion` wins. */
    promotion: z.optional(promotionSchema),
    /** The env files of an envfile target as rotate named them before `target.files` (still accepted: config/load.ts maps it). */
    envFile: z._default(envFiles, '.env'),
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
    /** Hosts running `rotate agent` on the shared store: the old value is retired only once each acknowledged the new. */
    fleet: z.optional(z.strictObject({ ackSeconds: z._default(z.number().check(z.positive(), z.lte(86_400)), 600) })),
  })
  .check(
    z.superRefine(policyIssues),
    z.refine((config) => !config.fleet || config.store.type === 'postgres', {
      message: 'a fleet shares one store: set store.type to postgres (with store.urlEnv) on every host',
      path: ['fleet'],
    }),
  );

/** A zod issue of our own (not an error code of rotate's: the message names the path). */
const CUSTOM = 'custom' as const;

/** Policy keys that only make sense together: a gate needs this config's environment and names another one. */
function policyIssues(
  config: {
    environment?: string | undefined;
    promotion?: { after: string } | undefined;
    secrets: Record<string, { promotion?: { after: string } | undefined; related?: string[] | undefined }>;
  },
  ctx: z.core.$RefinementCtx,
): void {
  const gates: [PropertyKey[], { after: string }][] = [
    ...(config.promotion ? [[['promotion'], config.promotion] as [PropertyKey[], { after: string }]] : []),
    ...Object.entries(config.secrets).flatMap(([id, s]) =>
      s.promotion ? [[['secrets', id, 'promotion'], s.promotion] as [PropertyKey[], { after: string }]] : [],
    ),
  ];
  for (const [path, gate] of gates) {
    if (!config.environment) {
      ctx.issues.push({
        code: CUSTOM,
        input: gate,
        path,
        message: `a promotion gate needs this config's own "environment" (such as "production") so that its runs are told apart from ${gate.after}'s`,
      });
    } else if (gate.after === config.environment) {
      ctx.issues.push({
        code: CUSTOM,
        input: gate,
        path: [...path, 'after'],
        message: `the gate names this config's own environment "${gate.after}": name the environment that rotates first (such as "staging")`,
      });
    }
  }
  for (const [id, s] of Object.entries(config.secrets)) {
    for (const [index, other] of (s.related ?? []).entries()) {
      if (other === id || !config.secrets[other]) {
        ctx.issues.push({
          code: CUSTOM,
          input: other,
          path: ['secrets', id, 'related', index],
          message:
            other === id
              ? 'a secret is not related to itself'
              : `no secret "${other}" in secrets: name one of ${Object.keys(config.secrets).join(', ')}`,
        });
      }
    }
  }
}

export type Config = z.output<typeof configSchema>;
export type SecretConfig = z.output<typeof secretSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type InstanceConfig = z.output<typeof instanceSchema>;
export type KubernetesWorkloadConfig = z.output<typeof kubernetesWorkloadSchema>;
export type Kind = SecretConfig['kind'];
export type SecretConfigOf<K extends Kind> = Extract<SecretConfig, { kind: K }>;

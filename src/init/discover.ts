// `rotate init` from what is there: the env file's (or the Kubernetes Secret's) keys decide which secrets are managed
// (and which other keys hold copies of their credentials, wired as alsoUpdate); the compose file (or the workloads
// that reference the Secret) decides which services restart for each and how they are checked. Whatever cannot be
// read from them is named, with why only a person can give it.
// Pure: the command reads the files or the cluster and hands their contents here.
import { parsePostgresUrl } from '../connection/postgres-url.js';
import { type ComposeService, hostUrl, readsKey } from './compose.js';
import type { KubernetesSource } from './workloads.js';

export interface InitInput {
  /** The env file, relative to the config's folder, as `target.files` will say (absent with `kubernetes`). */
  envFile?: string;
  /** Its keys and values (values are compared, never copied into the result). */
  env: Readonly<Record<string, string>>;
  /** The compose file beside it, when there is one. */
  compose?: { file: string; services: ComposeService[] };
  /** The values come from a Kubernetes Secret, read by these workloads (`rotate init --from-kubernetes`). */
  kubernetes?: KubernetesSource;
}

/** A config value init could not decide; `path` is where it goes in rotate.config.json. */
export interface Undecided {
  path: string;
  why: string;
}

export interface InitResult {
  config: Record<string, unknown>;
  /** Where the values were read: `.env`, `Secret cryptoorchestrator/cryptoorchestrator-secrets`. */
  source: string;
  /** What init read and decided, one sentence each. */
  decided: string[];
  /** Values only a person can give. */
  undecided: Undecided[];
  /** Keys of the env file that look like credentials and that no secret of the config manages. */
  unmanaged: string[];
}

/** The platform's readiness check (runs SELECT 1); `/healthz` and `/health` answer 200 whatever the database does. */
const READINESS_PATH = '/api/health/ready';
const STATIC_HEALTH = new Set(['/healthz', '/health', '/']);
const DATABASE_IMAGE = /(^|\/)(postgres|postgis|timescaledb)[:@]?|(^|\/)postgres$/;
const REDIS_IMAGE = /(^|\/)(redis|valkey)([:@]|$)/;

/** Names that hold credentials by convention; a URL with a password in it counts too. */
const CREDENTIAL_NAME = /(SECRET|PASSWORD|PASSWD|PASS$|TOKEN|_KEY$|^KEY$|PRIVATE|CREDENTIAL|DSN$|AUTH)/i;
// A setting about a credential (how long a token lives, how long a secret is) names it but holds none.
const NOT_CREDENTIAL_NAME =
  /(PUBLISHABLE|PUBLIC|_ID$|_USER(NAME)?$|_HOST$|_PORT$|_(SECONDS|MINUTES|HOURS|DAYS|TTL|LIFETIME|EXPIRY|EXPIRES|TIMEOUT|LENGTH|ALGORITHM)$)/i;
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i;

export const looksLikeCredential = (key: string, value: string): boolean =>
  value !== '' && ((CREDENTIAL_NAME.test(key) && !NOT_CREDENTIAL_NAME.test(key)) || URL_WITH_PASSWORD.test(value));

/** The password inside a URL (percent-decoded), or undefined. */
function urlPassword(value: string): { user: string; password: string } | undefined {
  const postgres = parsePostgresUrl(value);
  if (postgres) return postgres.password ? { user: postgres.user, password: postgres.password } : undefined;
  try {
    const url = new URL(value);
    return url.password ? { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
  } catch {
    return undefined;
  }
}

/** Other keys holding `main`'s password: whole (POSTGRES_PASSWORD) or in a URL for the same user (DATABASE_URL_SYNC). */
function copiesOf(env: Readonly<Record<string, string>>, main: string): string[] {
  const own = urlPassword(env[main] ?? '');
  if (!own) return [];
  return Object.entries(env)
    .filter(([key, value]) => {
      if (key === main || value === '') return false;
      if (value === own.password) return true;
      const other = urlPassword(value);
      return other !== undefined && other.password === own.password && (other.user === own.user || other.user === '' || own.user === '');
    })
    .map(([key]) => key);
}

export function discoverConfig(input: InitInput): InitResult {
  const { env, kubernetes: cluster } = input;
  const envFile = input.envFile ?? '.env';
  const keys = new Set(Object.keys(env).filter((key) => env[key] !== ''));
  const services = cluster?.workloads.map((w) => w.consumer) ?? input.compose?.services ?? [];
  /** Where consumers were looked for, when anywhere: `docker-compose.yml`, `namespace cryptoorchestrator`. */
  const consumersFrom = cluster ? `namespace ${cluster.namespace}` : input.compose?.file;
  const readerWord = cluster ? 'workload' : 'service';
  const decided: string[] = [];
  const undecided: Undecided[] = [];
  const secrets: Record<string, Record<string, unknown>> = {};
  const used = new Set<string>();

  const readers = (secretKeys: string[], skip: (s: ComposeService) => boolean = () => false) =>
    services.filter((s) => !skip(s) && secretKeys.some((key) => readsKey(s, key, keys)));
  const isDatabaseServer = (s: ComposeService) => DATABASE_IMAGE.test(s.image);
  const isRedisServer = (s: ComposeService) => REDIS_IMAGE.test(s.image);
  /** The app: a service that reads JWT_SECRET (else DATABASE_URL) and publishes a port. */
  const app = readers(['JWT_SECRET']).find((s) => s.ports.size > 0) ?? readers(['DATABASE_URL']).find((s) => s.ports.size > 0);
  const appBase = app ? `http://localhost:${[...app.ports.values()][0]}` : undefined;

  function manage(id: string, secretKeys: string[], body: Record<string, unknown>, skip?: (s: ComposeService) => boolean): string[] {
    const names = readers(secretKeys, skip).map((s) => s.name);
    for (const key of secretKeys) used.add(key);
    secrets[id] = { ...body, ...(consumersFrom ? { services: names } : {}) };
    const where = secretKeys.filter((key) => keys.has(key)).join(', ');
    const restarts = cluster ? 'rolls out' : 'restarts';
    decided.push(
      consumersFrom
        ? `${id}: ${where}${names.length ? `; ${restarts} ${names.join(', ')} (they read ${where.includes(',') ? 'these keys' : 'it'})` : `; no ${readerWord} reads it`}`
        : `${id}: ${where}`,
    );
    if (consumersFrom && names.length === 0) {
      undecided.push({
        path: `secrets.${id}.services`,
        why: `no ${readerWord} of ${consumersFrom} reads ${where}: name what must restart`,
      });
    }
    return names;
  }

  if (keys.has('JWT_SECRET')) {
    manage('jwt', ['JWT_SECRET'], {
      kind: 'jwt',
      env: 'JWT_SECRET',
      graceHours: 0,
      ...(appBase ? { verify: { url: `${appBase}/api/auth/me`, claims: { id: '1' } } } : {}),
    });
    if (!appBase)
      undecided.push({
        path: 'secrets.jwt.verify.url',
        why: cluster
          ? "the URL where rotate reaches the app's /api/auth/me (200 for a good token): its Service (http://<service>.<namespace>.svc:<port>) when rotate runs in the cluster, its Ingress host otherwise"
          : 'no service reading JWT_SECRET publishes a port: give the URL that answers 200 for a good token (/api/auth/me)',
      });
    else
      undecided.push({
        path: 'secrets.jwt.verify.claims',
        why: 'verify signs a token for user id 1: give the claims of a user that exists',
      });
  }
  if (keys.has('JWT_REFRESH_SECRET')) {
    manage('jwt-refresh', ['JWT_REFRESH_SECRET'], { kind: 'jwt', env: 'JWT_REFRESH_SECRET', graceHours: 0 });
    decided.push(
      `jwt-refresh: no verify URL (no endpoint checks a refresh token alone): rotate checks the ${cluster ? 'rollout' : 'restart and the health URL'} only`,
    );
  }
  if (keys.has('EXCHANGE_KEY_ENCRYPTION_KEY') && keys.has('DATABASE_URL')) {
    manage('exchange-key', ['EXCHANGE_KEY_ENCRYPTION_KEY'], {
      kind: 'exchange-key',
      env: 'EXCHANGE_KEY_ENCRYPTION_KEY',
      databaseUrlEnv: 'DATABASE_URL',
      tables: [{ table: 'exchange_api_keys', key: 'id', columns: ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'] }],
    });
  }
  if (keys.has('DATABASE_URL') && urlPassword(env.DATABASE_URL ?? '')) {
    const copies = copiesOf(env, 'DATABASE_URL');
    const names = manage(
      'database',
      ['DATABASE_URL', ...copies],
      { kind: 'postgres', env: 'DATABASE_URL', strategy: 'alter-password', alsoUpdate: copies },
      isDatabaseServer,
    );
    const servers = readers(['DATABASE_URL', ...copies]).filter(isDatabaseServer);
    for (const server of servers) {
      decided.push(
        `database: ${server.name} is not restarted: the postgres image reads POSTGRES_PASSWORD only when it creates an empty data folder; the role's password changes live (ALTER ROLE)`,
      );
    }
    if (copies.length)
      decided.push(
        `database: ${copies.join(', ')} ${copies.length === 1 ? 'holds the same password and changes' : 'hold the same password and change'} with it (alsoUpdate)`,
      );
    decided.push("database: the role changes its own password (no admin URL: alter-password as the app's role)");
    void names;
  }
  if (keys.has('REDIS_URL') && urlPassword(env.REDIS_URL ?? '')) {
    const copies = copiesOf(env, 'REDIS_URL');
    const all = ['REDIS_URL', ...copies];
    // A server started with `--requirepass ${REDIS_PASSWORD}` takes its password from the env file at every start:
    // the live change is CONFIG SET requirepass and the env file is its persistence.
    const server = readers(all).find(isRedisServer);
    const strategy = server ? 'requirepass' : 'acl';
    manage('redis', all, { kind: 'redis', env: 'REDIS_URL', strategy, alsoUpdate: copies });
    if (copies.length)
      decided.push(
        `redis: ${copies.join(', ')} ${copies.length === 1 ? 'holds the same password and changes' : 'hold the same password and change'} with it (alsoUpdate)`,
      );
    decided.push(
      server
        ? `redis: strategy requirepass (${server.name} takes its password from the ${cluster ? 'Secret' : 'env file'} when it starts)`
        : `redis: strategy acl (no ${cluster ? 'workload runs Redis from this Secret' : 'compose service runs Redis from this env file'}; old and new passwords overlap until verified)`,
    );
  }
  if (keys.has('STRIPE_SECRET_KEY')) {
    const stripeKeys = ['STRIPE_SECRET_KEY', 'STRIPE_PUBLISHABLE_KEY', 'STRIPE_WEBHOOK_SECRET'];
    manage('stripe', stripeKeys, {
      kind: 'stripe',
      ...(keys.has('STRIPE_WEBHOOK_SECRET') && appBase ? { webhook: { verifyUrl: `${appBase}/api/billing/webhook` } } : {}),
    });
    if (keys.has('STRIPE_WEBHOOK_SECRET') && !appBase) {
      undecided.push({
        path: 'secrets.stripe.webhook.verifyUrl',
        why: "where rotate reaches the app's /api/billing/webhook to check a signed test event (no published port says it)",
      });
    }
    if (keys.has('STRIPE_WEBHOOK_SECRET')) {
      undecided.push({
        path: 'secrets.stripe.webhook.url',
        why: "the public URL Stripe posts events to (your domain's /api/billing/webhook), which no local file names",
      });
    }
    decided.push(
      'stripe: a new secret key is rolled in the Stripe Dashboard and handed in at each rotation (ROTATE_NEW_STRIPE_SECRET_KEY, stdin or prompt)',
    );
  }

  // Every service that some secret restarts: how to re-create it (restart does not re-read an env file) and check it.
  const restarted = new Set(Object.values(secrets).flatMap((s) => (s.services as string[] | undefined) ?? []));
  const serviceConfig: Record<string, unknown> = {};
  const composeFlag =
    input.compose && !['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'].includes(input.compose.file)
      ? ` -f ${input.compose.file}`
      : '';
  for (const workload of cluster?.workloads.filter((w) => restarted.has(w.consumer.name)) ?? []) {
    const { kind, name, namespace } = workload;
    serviceConfig[workload.consumer.name] = {
      kubernetes: { kind, name, ...(namespace !== cluster?.namespace ? { namespace } : {}) },
    };
    decided.push(
      `${workload.consumer.name}: ${kind} ${name}, rolled out as kubectl rollout restart does (reads it through ${workload.via.join(', ')})`,
    );
  }
  for (const service of cluster ? [] : services.filter((s) => restarted.has(s.name))) {
    const health = healthOf(service, service === app);
    serviceConfig[service.name] = {
      restart: `docker compose${composeFlag} up -d --force-recreate ${service.name}`,
      ...(health.url ? { health: { url: health.url, timeoutSeconds: 120 } } : {}),
    };
    decided.push(`${service.name}: ${health.note}`);
  }
  if (cluster) {
    for (const note of cluster.notes) decided.push(note);
    if (Object.keys(serviceConfig).length)
      decided.push(
        "health: none written; rotate waits for each rollout as kubectl rollout status does (the pods' readiness probes); add services.<name>.health.url for a check of your own",
      );
    for (const owner of cluster.owners) {
      undecided.push({ path: 'target.source.file', why: `the Secret is written by ${owner.kind} (${owner.evidence}): ${owner.fix}` });
    }
  } else if (!input.compose) {
    serviceConfig.backend = { restart: 'docker compose up -d --force-recreate backend' };
    for (const id of Object.keys(secrets)) secrets[id] = { ...secrets[id], services: ['backend'] };
    undecided.push({
      path: 'services.backend.restart',
      why: `no compose file beside ${envFile}: give the command that re-creates each process reading it (a restart that re-reads the env file)`,
    });
  }

  const managed = new Set([...used, ...Object.values(secrets).flatMap((s) => (s.alsoUpdate as string[] | undefined) ?? [])]);
  const unmanaged = Object.entries(env)
    .filter(([key, value]) => !managed.has(key) && looksLikeCredential(key, value) && !/_PREVIOUS$/.test(key))
    .map(([key]) => key);

  return {
    source: cluster ? `Secret ${cluster.namespace}/${cluster.secret}` : envFile,
    config: {
      target: cluster
        ? {
            type: 'kubernetes',
            namespace: cluster.namespace,
            secret: cluster.secret,
            ...(cluster.context ? { context: cluster.context } : {}),
          }
        : { type: 'envfile', files: [envFile] },
      store: { type: 'file', dir: '.rotate' },
      services: serviceConfig,
      secrets,
      notify: { webhookUrl: null },
    },
    decided,
    undecided,
    unmanaged,
  };
}

/** A host URL that answers when the service is up, and the sentence saying where it came from. */
function healthOf(service: ComposeService, isApp: boolean): { url?: string; note: string } {
  const restart = 'docker compose up -d --force-recreate';
  const fromCheck = service.healthcheckUrl ? hostUrl(service, service.healthcheckUrl) : undefined;
  const published = [...service.ports.values()][0];
  if (isApp && published !== undefined && (!fromCheck || STATIC_HEALTH.has(new URL(fromCheck).pathname))) {
    const url = `http://localhost:${published}${READINESS_PATH}`;
    return {
      url,
      note: `${restart}; health ${url}, the readiness check that runs SELECT 1${fromCheck ? ` (its healthcheck's ${new URL(fromCheck).pathname} is static)` : ''}`,
    };
  }
  if (fromCheck) return { url: fromCheck, note: `${restart}; health ${fromCheck}, from its healthcheck` };
  if (published !== undefined && !REDIS_IMAGE.test(service.image) && !DATABASE_IMAGE.test(service.image)) {
    const url = `http://localhost:${published}/`;
    return { url, note: `${restart}; health ${url}, its published port (no healthcheck URL)` };
  }
  return { note: `${restart}; no health URL (no HTTP healthcheck or published port): rotate waits for the command to finish` };
}

/**
 * What each key of rotate.config.json means, for editors (scripts/write-schema.mjs puts these into
 * schema/rotate.config.schema.json). Paths: `secrets.*` is any secret, `secrets.<kind>` one kind, `services.*` any
 * service. test/e2e/schemas.test.ts fails when a key of the schema has no description here.
 */
export const CONFIG_DESCRIPTIONS: Record<string, string> = {
  $schema: 'Path or URL of this JSON Schema, for editors.',
  envFile:
    'The env file rotate reads and edits in place, or a list of them (each gets the same new value), relative to this file (default .env); --env-file overrides it.',
  target: 'Where values live: the env files (type envfile, the default) or a Kubernetes Secret (type kubernetes).',
  'target.type': 'envfile (the env files of envFile) or kubernetes (a Secret; no env file is read).',
  'target.namespace': 'Namespace of the Kubernetes Secret.',
  'target.secret': 'Name of the Kubernetes Secret; its data keys are the env names.',
  'target.context': 'kubeconfig context to use (default: the current one).',
  store: 'Where rotate keeps its state, history, journal, encrypted backups and lock.',
  'store.type': 'file: a folder beside this config (default); postgres: tables shared by several hosts.',
  'store.dir': 'Folder of the file store, relative to this config (default .rotate).',
  'store.keepBackups': 'Encrypted env-file backups kept per secret (default 1: the file before its last rotation).',
  'store.urlEnv': 'Name of the environment variable that holds the store database URL (never the URL itself).',
  'store.schema': 'PostgreSQL schema that holds the store tables (default rotate).',
  services: 'The processes that read the secrets, by name: how to restart each and how to tell it is healthy.',
  'services.*.restart': 'Shell command run with /bin/sh -c in this folder; it must re-read the env file (recreate, not restart).',
  'services.*.kubernetes': 'A Kubernetes workload restarted like `kubectl rollout restart` (an alternative to restart).',
  'services.*.kubernetes.kind': 'Deployment, StatefulSet or DaemonSet.',
  'services.*.kubernetes.name': 'Name of the workload.',
  'services.*.kubernetes.namespace': 'Namespace of the workload (default: the namespace of target).',
  'services.*.health': 'Polled after a restart until it answers 2xx.',
  'services.*.health.url': 'http(s) URL that answers 2xx when the service is up.',
  'services.*.health.timeoutSeconds': 'How long to wait for a 2xx after the restart (default 60).',
  secrets: 'The secrets rotate manages, by id. An id that names a kind (jwt, exchange-key, database, redis, stripe) may omit kind.',
  'secrets.*.kind': 'What the secret is: jwt, exchange-key, postgres, redis or stripe.',
  'secrets.*.env': 'Name of the env-file key that holds the value.',
  'secrets.*.description': 'A note for people; rotate does not read it.',
  'secrets.*.services': 'Names of the services (see services) restarted after the new value is written.',
  'secrets.*.graceHours': 'Hours the old value stays valid after a rotation; 0 retires it at once (default 0).',
  'secrets.*.intervalDays': 'Days between rotations; rotate --due rotates the secret once they have passed.',
  'secrets.*.window': 'When rotate --due may rotate this secret; overrides the top-level window.',
  'secrets.*.alsoUpdate': 'Other env-file keys holding the same credential (whole, or as the password inside a URL), written together.',
  'secrets.*.adminUrlEnv': 'Name of an environment variable holding an admin connection URL (never the URL itself).',
  'secrets.*.strategy': 'How the credential is changed; see docs/secrets/ for the trade-offs.',
  'secrets.*.verify': 'How rotate proves the app accepts the new value.',
  'secrets.*.verify.url': 'A URL of the app that answers 2xx only when the current value works.',
  'secrets.jwt.previousEnv': 'Env-file key that holds the old secret during the grace period (default <env>_PREVIOUS).',
  'secrets.jwt.allowInsecureVerify':
    'Allow verify.url over plain http to a public host (the test token then crosses the network in clear text).',
  'secrets.jwt.verify.claims': 'Claims of the test token signed with the new secret (default {"id": "1"}).',
  'secrets.jwt.verify.expiresInSeconds': 'Lifetime of the test token (default 120).',
  'secrets.exchange-key.databaseUrlEnv': 'Env-file key holding the URL of the database whose rows are re-encrypted.',
  'secrets.exchange-key.tables': 'The tables whose encrypted columns are re-encrypted under the new key.',
  'secrets.exchange-key.tables.table': 'Table name.',
  'secrets.exchange-key.tables.key': 'Primary key column (default id).',
  'secrets.exchange-key.tables.columns': 'Encrypted columns (Fernet tokens).',
  'secrets.exchange-key.batchSize':
    'Rows re-encrypted per batch: per FETCH, per UPDATE and, with commit per-batch, per transaction (default 2000).',
  'secrets.exchange-key.commit':
    'per-batch (default): each batch commits at once, so an app writing a row waits for one batch at most, and rows already moved are under the new key (held in nextEnv) before the restart; once: one transaction for the whole pass (no row moves before the end, but a writer of a moved row waits until then).',
  'secrets.exchange-key.nextEnv':
    'Env-file key that holds the new key while the rows are re-encrypted (default <env>_NEXT); the app need not read it.',
  'secrets.exchange-key.previousEnv':
    'Env-file key that keeps the old key from the env write until the sweep proves no value is under it (default <env>_PREVIOUS).',
  'secrets.exchange-key.kdf': 'The platform key derivation: Fernet key = PBKDF2-HMAC-SHA256(env value, salt, iterations, 32).',
  'secrets.exchange-key.kdf.salt': 'PBKDF2 salt (default crypto_orchestrator_salt).',
  'secrets.exchange-key.kdf.iterations': 'PBKDF2 iterations (default 100000).',
  'secrets.postgres.roles': 'alternate-roles: the NOLOGIN role that owns the tables and the two login roles that take turns.',
  'secrets.postgres.roles.owner': 'The NOLOGIN role that owns the app objects.',
  'secrets.postgres.roles.logins': 'The two login roles, members of owner; each rotation switches DATABASE_URL to the other.',
  'secrets.redis.allowUnpersisted': 'Rotate even when the server cannot persist the new password (it would be lost on a Redis restart).',
  'secrets.stripe.env': 'Env-file keys of the three Stripe values.',
  'secrets.stripe.env.secretKey': 'Key of the secret API key (sk_ or rk_).',
  'secrets.stripe.env.publishableKey': 'Key of the publishable key (pk_).',
  'secrets.stripe.env.webhookSecret': 'Key of the webhook signing secret (whsec_).',
  'secrets.stripe.apiBase': 'Stripe API base URL; https unless the host is loopback (tests, proxies).',
  'secrets.stripe.webhook': 'The webhook endpoint whose signing secret rotate rotates.',
  'secrets.stripe.webhook.url': 'URL of the endpoint in Stripe, to find it.',
  'secrets.stripe.webhook.endpointId': 'Id of the endpoint (we_...), instead of url.',
  'secrets.stripe.webhook.verifyUrl': 'Where the app receives events: a signed test event must be accepted there.',
  notify: 'Where rotate posts what happened (Slack, Mattermost and Teams incoming webhooks read the text field).',
  'notify.webhookUrl': 'Incoming-webhook URL, or null for none.',
  'notify.on': 'Which events are posted: failure, needs-person, due-soon, success.',
  'notify.remindDaysBefore': 'Days before a due date when rotate --due starts posting a reminder (default 14).',
  window: 'When rotate --due may rotate (a secret may have its own).',
  'window.days': 'Days the window opens on (default every day).',
  'window.hours': 'HH:MM-HH:MM in 24-hour time; may cross midnight (22:00-04:00).',
  'window.timezone': 'IANA time zone of days and hours (default UTC).',
};

/** The description for a key of the schema at `path`, trying the kind's own entry, then any secret's, then a shared block's. */
export function describeConfigKey(path: string): string | undefined {
  if (CONFIG_DESCRIPTIONS[path]) return CONFIG_DESCRIPTIONS[path];
  const anySecret = path.replace(/^secrets\.[^.]+\./, 'secrets.*.');
  if (CONFIG_DESCRIPTIONS[anySecret]) return CONFIG_DESCRIPTIONS[anySecret];
  const block = /(?:^|\.)((?:window|notify)(?:\..*)?)$/.exec(path)?.[1];
  return block ? CONFIG_DESCRIPTIONS[block] : undefined;
}

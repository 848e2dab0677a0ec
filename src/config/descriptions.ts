import { HOOK_POINTS } from '../hooks/schema.js';
import { secretKinds } from '../secrets/index.js';

/** The keys of each hook (`secrets.*.hooks.<point>.<key>`), the same at every point. */
const hookFieldDescriptions = (): Record<string, string> => {
  const fields: Record<string, string> = {
    run: 'Shell command run with /bin/sh -c in this folder; never pass a value in it: read ROTATE_NEW_VALUE / ROTATE_OLD_VALUE.',
    runOn: 'one: on the host that rotates (a data migration); every: also on each fleet host, by its agent (a cache flush). Default one.',
    timeoutSeconds: 'Past it the hook and what it started are killed and the step fails (default 300).',
    idempotent: 'Safe to run twice: a resume after a crash in the middle of it runs it again instead of asking a person (default false).',
  };
  return Object.fromEntries(
    HOOK_POINTS.flatMap((point) => Object.entries(fields).map(([key, text]) => [`secrets.*.hooks.${point}.${key}`, text])),
  );
};

/** Each kind's own keys (`secrets.<kind>.<key>`), as its kind.ts describes them. */
const kindDescriptions = (): Record<string, string> =>
  Object.fromEntries(
    secretKinds.flatMap((entry) => Object.entries(entry.descriptions).map(([key, text]) => [`secrets.${entry.kind}.${key}`, text])),
  );

/**
 * What each key of rotate.config.json means, for editors (scripts/write-schema.mjs puts these into
 * schema/rotate.config.schema.json). Paths: `secrets.*` is any secret, `secrets.<kind>` one kind, `services.*` any
 * service. test/e2e/schemas.test.ts fails when a key of the schema has no description here or in its kind.
 */
export const CONFIG_DESCRIPTIONS: Record<string, string> = {
  $schema: 'Path or URL of this JSON Schema, for editors.',
  envFile:
    'The env files of an envfile target (older form of target.files, still accepted): one or a list, relative to this file (default .env); --env-file overrides it.',
  target: 'Where values live: the env files (type envfile, the default) or a Kubernetes Secret (type kubernetes).',
  'target.type': 'envfile (env files, edited in place) or kubernetes (a Secret; no env file is read).',
  'target.files':
    'The env files of an envfile target, or one: each gets the same new value (relative to this file; default: envFile, else .env); --env-file overrides it.',
  'target.namespace': 'Namespace of the Kubernetes Secret.',
  'target.secret': 'Name of the Kubernetes Secret; its data keys are the env names.',
  'target.context': 'kubeconfig context to use (default: the current one).',
  'target.source': 'The file the Secret is deployed from, kept in step with it: both are written in one step (docs/kubernetes.md).',
  'target.source.file':
    'A Secret manifest (YAML or JSON, applied with kubectl apply -f) or an env file (plain or dotenvx-encrypted, for --from-env-file), relative to the config.',
  'target.source.git':
    'Git delivery for GitOps: after writing the source rotate commits only that file and pushes it; it does not patch the live Secret, a GitOps controller applies the commit (only an encrypted source may go to git).',
  'target.source.git.remote': 'The git remote to push to (default origin).',
  'target.source.git.branch': 'The branch the GitOps controller watches; rotate pushes HEAD to it.',
  'target.source.convergeSeconds':
    'With git: how long rotate waits for the live Secret to hold the new value before restarting (default 600); not converged in time, the run ends pushed, not converged and rotate resume waits again.',
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
  'services.*.instances':
    'Replicas restarted one at a time, each healthy before the next: a list of { restart, health }, or a count whose {i} in restart and health.url is the replica number (1, 2, ...).',
  'services.*.instances.restart': "This replica's restart command (/bin/sh -c in this folder).",
  'services.*.instances.health': 'Polled after this replica restarts, before the next one goes down.',
  'services.*.instances.health.url': 'http(s) URL that answers 2xx when this replica is up.',
  'services.*.instances.health.timeoutSeconds': 'How long to wait for this replica (default 60); past it the rotation rolls back.',
  secrets: 'The secrets rotate manages, by id. An id that names a kind (jwt, exchange-key, database, redis, stripe) may omit kind.',
  'secrets.*.kind': 'What the secret is: jwt, exchange-key, postgres, redis or stripe.',
  'secrets.*.env': 'Name of the env-file key that holds the value.',
  'secrets.*.description': 'A note for people; rotate does not read it.',
  'secrets.*.services': 'Names of the services (see services) restarted after the new value is written.',
  'secrets.*.graceHours': 'Hours the old value stays valid after a rotation; 0 retires it at once (default 0).',
  'secrets.*.intervalDays': 'Days between rotations; rotate --due rotates the secret once they have passed.',
  'secrets.*.window': 'When rotate --due may rotate this secret; overrides the top-level window.',
  'secrets.*.hooks':
    'Shell commands at points of the rotation (before, afterApply, afterVerify, onRollback); the values reach them only as ROTATE_NEW_VALUE / ROTATE_OLD_VALUE in their environment.',
  'secrets.*.hooks.before': 'Runs after the checks, before anything changes (the new value is generated); a failure changes nothing.',
  'secrets.*.hooks.afterApply':
    'Runs after the new value is written and the services restarted, before verification; a failure rolls back.',
  'secrets.*.hooks.afterVerify': 'Runs once the new value passed verification, before the old one is retired; a failure rolls back.',
  'secrets.*.hooks.onRollback': 'Runs after a rollback restored the old value (ROTATE_OLD_VALUE is the value in use again).',
  ...hookFieldDescriptions(),
  'secrets.*.alsoUpdate': 'Other env-file keys holding the same credential (whole, or as the password inside a URL), written together.',
  'secrets.*.adminUrlEnv': 'Name of an environment variable holding an admin connection URL (never the URL itself).',
  'secrets.*.strategy': 'How the credential is changed; see docs/secrets/ for the trade-offs.',
  'secrets.*.verify': 'How rotate proves the app accepts the new value.',
  'secrets.*.promotion': 'The staging-first gate for this secret; overrides the top-level promotion.',
  'secrets.*.promotion.after': 'The environment whose verified rotation this one waits for (such as staging).',
  'secrets.*.promotion.withinDays': 'How recent that verified rotation must be, in days (default 14).',
  'secrets.*.related': 'Ids of the secrets rotate leak rotates together with this one when it leaks (such as jwt-refresh for jwt).',
  'secrets.*.verify.url': 'A URL of the app that answers 2xx only when the current value works.',
  ...kindDescriptions(),
  notify: 'Where rotate posts what happened (Slack, Mattermost and Teams incoming webhooks read the text field).',
  'notify.webhookUrl': 'Incoming-webhook URL, or null for none.',
  'notify.on': 'Which events are posted: failure, needs-person, due-soon, success.',
  'notify.remindDaysBefore': 'Days before a due date when rotate --due starts posting a reminder (default 14).',
  environment: 'The environment this config rotates (staging, production), recorded with every run.',
  promotion:
    'Staging first: a rotation here waits for a verified rotation of the same secret (else of the same kind) in another environment.',
  'promotion.after': "The environment that rotates first (such as staging); never this config's own.",
  'promotion.withinDays': 'How recent that verified rotation must be, in days (default 14).',
  fleet:
    'Hosts that run `rotate agent` on the shared postgres store get each rotation: the old value is retired only once every registered host acknowledged the new one.',
  'fleet.ackSeconds':
    'How long a rotation waits for every host to acknowledge its new values, a rollback or the retire changes (default 600); past it the run needs a person (exit 3), the hosts named.',
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

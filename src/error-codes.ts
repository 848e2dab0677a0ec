/** Exit codes of the contract (CONTRACT.md, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  needsPerson: 3,
  locked: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** One row of the registry: what the process exits with, when the code appears, what to do, and where the docs say more. */
export interface ErrorCodeEntry {
  exit: ExitCodeValue;
  /** When the code appears, in a few words (docs/errors.md's "meaning" column). */
  when: string;
  /** What to do. An error thrown without a hint of its own prints this one. */
  hint: string;
  /** The operator doc that explains it, relative to docs/ (`page.md#heading-anchor`). */
  doc: string;
}

const { failed, usage, needsPerson, locked } = ExitCode;
const RUNBOOK = 'runbook.md#a-rotation-failed-exit-1';
const RESUME = 'runbook.md#exit-3-an-interrupted-run-or-a-failed-rollback';
const CONFIG = 'configuration.md';
const STORE = 'configuration.md#store';
const KUBE = 'kubernetes.md#errors';
const ENV_VARS = 'configuration.md#environment-variables-rotate-reads';
const DOTENVX = 'configuration.md#dotenvx-encrypted-env-files';
const MASTER_KEY = 'runbook.md#the-master-key-wrong-or-missing';
const DATABASE = 'secrets/database.md#errors';
const REDIS = 'secrets/redis.md#errors';
const EXCHANGE_KEY = 'secrets/exchange-key.md#troubleshooting';
const STRIPE_HANDOVER = 'secrets/stripe.md#handing-the-key-in';
const STRIPE_CHECKS = 'secrets/stripe.md#what-rotate-checks-before-anything-is-written';
const STRIPE_FAILURES = 'secrets/stripe.md#failures-resume-rollback';

/**
 * Every error code `rotate` prints, one entry each. Codes are stable: scripts match on them. Adding a code is one
 * entry here (then `npm run docs:errors`); `RotateError` accepts no code that is missing, and
 * test/unit/error-codes.test.ts fails when a code in src/ or docs/errors.md is out of step with this table.
 */
// biome-ignore format: one line per code, so that adding one is a one-line change
export const ERROR_CODES = {
  // Command line and configuration
  USAGE: { exit: usage, when: 'the command line is wrong', hint: 'See `rotate --help`.', doc: CONFIG },
  UNKNOWN_SECRET: { exit: usage, when: 'a secret named on the command line is not in the config', hint: 'Run `rotate status` to list the secrets.', doc: CONFIG },
  CONFIG_INVALID: { exit: usage, when: 'the config file is not valid JSON or breaks the schema', hint: 'Fix the keys the message names; `rotate init` writes a complete example.', doc: CONFIG },
  CONFIG_UNREADABLE: { exit: usage, when: 'the config file cannot be read', hint: 'Check --config, or run `rotate init`.', doc: CONFIG },
  CONFIG_EXISTS: { exit: usage, when: '`rotate init` found a config file already', hint: 'Use --force to overwrite it.', doc: CONFIG },
  SETUP_NOT_NEEDED: { exit: usage, when: '`rotate setup` named a secret that has no one-time setup', hint: 'Only database secrets with strategy alternate-roles have a setup.', doc: 'secrets/database.md#alternate-roles-one-time-setup' },
  CONSENT_REQUIRED: { exit: usage, when: 'a rotation or rollback ran off a terminal without --yes; nothing was changed', hint: 'Add --yes (cron: use rotate --due, which never asks).', doc: CONFIG },
  // Answering no changed nothing: 2, like every other refusal before a change (CONSENT_REQUIRED).
  CANCELLED: { exit: usage, when: 'the operator answered no at a confirmation', hint: 'Nothing was changed; run again and answer yes, or pass --yes.', doc: RUNBOOK },
  INPUT_TIMEOUT: { exit: failed, when: 'a piped stdin sent no value in time', hint: 'Pipe NAME=value lines and close stdin; ROTATE_STDIN_TIMEOUT sets the wait.', doc: STRIPE_HANDOVER },
  INPUT_CANCELLED: { exit: failed, when: 'the prompt for a value was cancelled', hint: 'Run again and type the value, or hand it in through the environment.', doc: STRIPE_HANDOVER },
  UNEXPECTED: { exit: failed, when: 'an error rotate has no code for (a bug)', hint: 'Run again with ROTATE_DEBUG=1 for the stack trace and report it.', doc: RUNBOOK },

  // The run: checks, restarts, rollback, resume
  PREFLIGHT_FAILED: { exit: failed, when: 'the current value does not pass its checks; nothing was changed', hint: 'Fix what the failed check names, then run `rotate verify`.', doc: RUNBOOK },
  VERIFY_FAILED: { exit: failed, when: 'the new value did not pass verification; it was rolled back', hint: 'Fix what the failed check names, then run the rotation again.', doc: RUNBOOK },
  RETIRE_VERIFY_FAILED: { exit: failed, when: 'the old value still works after it was retired', hint: 'Check the provider by hand; `rotate status` shows the run.', doc: RESUME },
  ROLLBACK_VERIFY_FAILED: { exit: failed, when: 'after a rollback the old value does not pass its checks', hint: 'Run `rotate status`, fix the cause, then `rotate resume`.', doc: RESUME },
  ROLLBACK_FAILED: { exit: needsPerson, when: 'a rotation failed and rolling it back failed too', hint: 'Run `rotate status`, fix the cause, then `rotate resume`.', doc: RESUME },
  NOTHING_TO_ROLL_BACK: { exit: usage, when: '`rotate rollback` found no completed rotation of the secret', hint: '`rotate history` shows what rotate has done to the secret.', doc: 'runbook.md#putting-the-previous-value-back' },
  INTERRUPTED: { exit: usage, when: 'a SIGINT or SIGTERM stopped the run before anything was changed', hint: 'Run the command again when you are ready.', doc: RESUME },
  INTERRUPTED_PENDING: { exit: needsPerson, when: 'a SIGINT or SIGTERM stopped the run at a safe point after it changed something', hint: '`rotate status` shows the run; `rotate resume` finishes or undoes it.', doc: RESUME },
  RUN_PENDING: { exit: needsPerson, when: 'an earlier run did not finish', hint: 'Run `rotate status`, then `rotate resume` to finish or undo it.', doc: RESUME },
  RESTART_FAILED: { exit: failed, when: "a service's restart command exited non-zero", hint: 'Check services.<name>.restart in the config.', doc: 'configuration.md#servicesname' },
  NO_RESTART: { exit: usage, when: 'no configured service restarts the app after the secret changes; nothing was changed', hint: 'Name the services that read it in secrets.<id>.services (each with a restart command or kubernetes), or pass --no-restart to write without applying.', doc: 'configuration.md#no-silent-non-delivery' },
  UNLISTED_COPY: { exit: usage, when: 'another key of the env files (or Secret) holds the current value of the secret being rotated; nothing was changed', hint: 'Add that key to secrets.<id>.alsoUpdate so it gets the new value too, or give it a value of its own.', doc: 'configuration.md#copies-of-a-credential-alsoupdate' },
  VALUE_REUSED: { exit: usage, when: 'two secrets hold the same value (JWT_REFRESH_SECRET equal to JWT_SECRET); nothing was changed', hint: 'Give the other key a value of its own, restart its services, then rotate again.', doc: 'configuration.md#copies-of-a-credential-alsoupdate' },
  ALSO_UPDATE_MISMATCH: { exit: usage, when: 'a key listed in alsoUpdate holds another value than the secret; nothing was changed', hint: 'Remove it from alsoUpdate, or make it hold the same value.', doc: 'configuration.md#copies-of-a-credential-alsoupdate' },
  TARGET_CHANGED: { exit: failed, when: 'the env files changed between the start of the run and its write; nothing was written and the run rolled back', hint: 'Let the other writer finish, then run again.', doc: RUNBOOK },
  KEY_WRITTEN_TWICE: { exit: usage, when: 'two secrets of one run would write the same key', hint: 'A key belongs to one secret: remove it from the env or alsoUpdate of one of them.', doc: CONFIG },
  JOURNAL_OLD_FORMAT: { exit: needsPerson, when: 'an interrupted run was journaled by an older rotate (one journal per secret)', hint: 'Resume it with the rotate version that started it, or check the secret with `rotate verify` and remove that journal.', doc: RESUME },
  HEALTH_TIMEOUT: { exit: failed, when: 'a service did not become healthy in time after its restart', hint: 'Check that the service starts with the new values; raise health.timeoutSeconds if it is only slow.', doc: 'configuration.md#servicesname' },
  // Fleet (#24): rotate agent on each host, the rotating host waiting for their acknowledgements.
  FLEET_NEEDS_POSTGRES: { exit: usage, when: '`fleet` or `rotate agent` with a store that is not the shared postgres store', hint: 'Set store.type to postgres (with store.urlEnv) on every host of the fleet.', doc: 'fleet.md' },
  FLEET_HOST_TAKEN: { exit: usage, when: 'an agent claims a host name another agent registered', hint: 'Give the agent its own --host (or ROTATE_HOST), or run rotate agent --leave in the other agent\'s folder.', doc: 'fleet.md#errors' },
  FLEET_LAGGING: { exit: needsPerson, when: 'registered hosts did not acknowledge the new values in fleet.ackSeconds (or failed to apply them): the old value stays valid', hint: 'Fix or start rotate agent on the hosts named, then rotate resume; retire a host that is gone with rotate agent --leave.', doc: 'fleet.md#errors' },
  FLEET_ROLLBACK_LAGGING: { exit: needsPerson, when: 'a rollback was put back on the rotating host, but registered hosts did not acknowledge it in fleet.ackSeconds (or failed to apply it): they may still run the new value', hint: 'Fix or start rotate agent on the hosts named, then rotate resume: it publishes the rollback again and waits for them.', doc: 'fleet.md#errors' },
  FLEET_RETIRE_LAGGING: { exit: needsPerson, when: 'the old value was retired on the rotating host, but registered hosts did not acknowledge the retire changes in fleet.ackSeconds (or failed to apply them): they may still hold the old value', hint: 'Fix or start rotate agent on the hosts named, then rotate resume: it publishes the retire changes again and waits for them.', doc: 'fleet.md#errors' },
  FLEET_APPLY_FAILED: { exit: failed, when: "an agent could not apply the fleet's desired values on its host (write, restart, check or hook)", hint: 'Fix the cause named on that host; the next rotate agent run applies the values again.', doc: 'fleet.md#errors' },
  // Hooks (#24): secrets.<id>.hooks, shell commands at points of a rotation.
  HOOK_FAILED: { exit: failed, when: "a secret's hook exited non-zero (before retire: the rotation rolls back)", hint: 'Fix secrets.<id>.hooks.<point>.run; its output is shown redacted.', doc: 'configuration.md#secretsidhooks' },
  HOOK_TIMEOUT: { exit: failed, when: 'a hook ran past its timeoutSeconds and was killed with its process group', hint: 'Raise secrets.<id>.hooks.<point>.timeoutSeconds if it is only slow, or make it end.', doc: 'configuration.md#secretsidhooks' },
  HOOK_INTERRUPTED: { exit: needsPerson, when: 'a run (or a rotate agent pass, for an every hook: its acknowledgement says failed) stopped while a hook that is not marked idempotent was running: rotate cannot know whether it finished', hint: 'Check what the hook did; if it is safe to run again set its idempotent: true, then rotate resume.', doc: 'configuration.md#secretsidhooks' },

  // Environments, policy, leaks (#23): the promotion gate and rotate leak
  PROMOTION_GATE_CLOSED: { exit: usage, when: 'a promotion gate is closed: no verified rotation of the secret (or its kind) in the environment it names within withinDays; nothing was changed', hint: 'Rotate it in that environment first (its config, this store), or pass --emergency --reason "<why>".', doc: 'policy.md#staging-first-the-promotion-gate' },
  PROMOTION_ENVIRONMENT_UNKNOWN: { exit: usage, when: 'promotion.after names an environment no run in the store was recorded in; nothing was changed', hint: 'Fix the name, or set "environment" in that environment\'s config and point it at this store.', doc: 'policy.md#staging-first-the-promotion-gate' },
  LEAK_REPORT_UNREADABLE: { exit: usage, when: '`rotate leak --from` cannot read the report (missing, a folder, over 256 MB); nothing was rotated', hint: 'Point --from at the JSON report the scanner wrote.', doc: 'policy.md#rotate-leak-a-leak-answered-by-a-rotation' },
  LEAK_REPORT_INVALID: { exit: usage, when: 'the report is not JSON, is truncated, or is in no known format (gitleaks, trufflehog, secretlint); nothing was rotated', hint: 'Give the JSON report of gitleaks (--report-format json), trufflehog (--json) or secretlint (--format json), written whole.', doc: 'policy.md#rotate-leak-a-leak-answered-by-a-rotation' },
  LEAK_REPORT_TOO_MANY: { exit: usage, when: 'the report holds more findings than rotate leak reads (10,000); nothing was rotated', hint: 'Narrow the scan (a path, a commit range, a baseline), then run rotate leak on that report.', doc: 'policy.md#rotate-leak-a-leak-answered-by-a-rotation' },

  // Kubernetes: the Secret target and workload rollouts
  KUBE_CONFIG_INVALID: { exit: usage, when: 'the kubeconfig cannot be read', hint: 'Point KUBECONFIG at a readable kubeconfig, or run in a pod with a service account.', doc: KUBE },
  KUBE_CONTEXT_NOT_FOUND: { exit: usage, when: 'target.context names a context the kubeconfig does not have', hint: 'Fix target.context, or add the context (kubectl config get-contexts).', doc: KUBE },
  KUBE_NO_CREDENTIALS: { exit: usage, when: 'no kubeconfig and no in-cluster service account', hint: 'Set KUBECONFIG, or run rotate in the cluster.', doc: KUBE },
  KUBE_NAMESPACE_MISSING: { exit: usage, when: 'a Kubernetes service has no namespace and the target gives none', hint: 'Add services.<name>.kubernetes.namespace.', doc: KUBE },
  KUBE_NOT_FOUND: { exit: usage, when: 'the Secret or a workload does not exist', hint: 'Check the namespace, the name and the kubeconfig context.', doc: KUBE },
  KUBE_FORBIDDEN: { exit: usage, when: "rotate's Kubernetes account lacks a right (403)", hint: 'Add the Role rule the message names.', doc: KUBE },
  KUBE_UNAUTHORIZED: { exit: usage, when: 'the API server rejected the credentials (401)', hint: 'Refresh the kubeconfig token or the service account.', doc: KUBE },
  KUBE_CONFLICT: { exit: usage, when: 'someone else changed the Secret during the run (409); nothing was overwritten', hint: 'Find out who changed it, then run again.', doc: KUBE },
  KUBE_UNREACHABLE: { exit: usage, when: 'the Kubernetes API server cannot be reached', hint: 'Check the cluster address in the kubeconfig and the network.', doc: KUBE },
  KUBE_API_ERROR: { exit: failed, when: 'the API server answered with another error', hint: 'Run again once the cluster is healthy.', doc: KUBE },
  // Where the value is kept (#20): a Secret another tool writes back.
  KUBE_SECRET_OWNED: { exit: usage, when: 'the Secret is written back by a controller (ExternalSecret, SealedSecret, Argo CD, Flux, Helm) or kubectl apply, and no target.source is configured', hint: 'Name the file it is deployed from in target.source, or rotate the value where its controller reads it.', doc: 'kubernetes.md#secrets-rotate-refuses' },
  // target.source (#20 item 4): the file a Secret is deployed from, kept in step with it.
  SOURCE_NOT_FOUND: { exit: usage, when: 'target.source.file does not exist', hint: 'Point target.source.file (relative to the config) at the manifest or env file the Secret is deployed from.', doc: 'kubernetes.md#targetsource-the-file-a-secret-is-deployed-from' },
  SOURCE_INVALID: { exit: usage, when: 'target.source.file is not valid YAML, JSON or env-file text', hint: 'Fix the file so that kubectl can read it.', doc: 'kubernetes.md#targetsource-the-file-a-secret-is-deployed-from' },
  SOURCE_NO_SECRET: { exit: usage, when: 'the source manifest has no Secret of that name and namespace (or several)', hint: 'Point target.source.file at the manifest that deploys the Secret.', doc: 'kubernetes.md#targetsource-the-file-a-secret-is-deployed-from' },
  SOURCE_KEY_MISSING: { exit: usage, when: 'the live Secret holds a key being rotated that its source does not', hint: 'Add the key to the source file (with its current value), or deploy the Secret from it again.', doc: 'kubernetes.md#targetsource-the-file-a-secret-is-deployed-from' },
  SOURCE_DISAGREES: { exit: usage, when: 'the source file and the live Secret hold different current values of a key being rotated', hint: 'Deploy the source (kubectl apply -f) or fix it so both hold the value in use, then run rotate again.', doc: 'kubernetes.md#targetsource-the-file-a-secret-is-deployed-from' },
  SOURCE_CANNOT_EDIT: { exit: usage, when: 'a key of the source manifest is not a one-line key: value entry rotate can edit in place', hint: 'Write the key as a plain key: value line under stringData or data.', doc: 'kubernetes.md#targetsource-the-file-a-secret-is-deployed-from' },
  // Git delivery of the source (#20 item 5): target.source.git commits and pushes the source; a GitOps controller applies it.
  GIT_NOT_A_REPO: { exit: usage, when: 'target.source.git is set but the source file is not in a git work tree (or the remote is unknown)', hint: 'Point target.source.file at the file in a clone of the repository the controller watches, and git.remote at one of its remotes.', doc: 'kubernetes.md#gitops-with-an-encrypted-source' },
  GIT_SOURCE_DIRTY: { exit: usage, when: 'the source file has uncommitted changes (or is untracked): rotate commits only its own change', hint: 'Commit or discard the change to the source file, then run rotate again.', doc: 'kubernetes.md#gitops-with-an-encrypted-source' },
  GIT_PLAINTEXT: { exit: usage, when: 'target.source.git would commit a value in plaintext or base64 (a plain manifest or env file, or a .env.keys)', hint: 'Only an encrypted source may go to git: encrypt it with dotenvx, or remove target.source.git.', doc: 'kubernetes.md#gitops-with-an-encrypted-source' },
  GIT_COMMIT_FAILED: { exit: usage, when: 'git could not commit the source file (no user.name/user.email, a hook)', hint: 'Fix what git says for that repository, then run rotate again.', doc: 'kubernetes.md#gitops-with-an-encrypted-source' },
  GIT_PUSH_REFUSED: { exit: usage, when: 'the remote refused the push of the source; the local commit was taken back and the file restored', hint: 'Fix what the remote says (a protected branch, a branch that moved), then run rotate again.', doc: 'kubernetes.md#gitops-with-an-encrypted-source' },
  SOURCE_NOT_CONVERGED: { exit: failed, when: 'pushed, not converged: the live Secret did not hold the new value within target.source.convergeSeconds; nothing retired, the old value stays valid', hint: 'Check the GitOps controller (sync status of the app), then rotate resume: it waits again and continues.', doc: 'kubernetes.md#gitops-with-an-encrypted-source' },
  ROLLOUT_FAILED: { exit: failed, when: 'a workload rollout reported ProgressDeadlineExceeded; the old pods keep serving', hint: 'Look at the new pods (kubectl describe, kubectl logs).', doc: KUBE },
  ROLLOUT_TIMEOUT: { exit: failed, when: 'a workload rollout outlived health.timeoutSeconds', hint: 'Raise services.<name>.health.timeoutSeconds if the rollout is only slow.', doc: KUBE },

  // Env files
  ENV_FILES_DISAGREE: { exit: usage, when: 'the env files of envFile hold different current values of a key being rotated; nothing was changed', hint: 'Make every listed file hold the same current value, or list only the files of the services that read it.', doc: CONFIG },
  ENV_FILE_MISSING: { exit: usage, when: 'the env file does not exist (a wrong folder, envFile or --env-file); nothing was touched', hint: 'Run rotate in the folder of your .env, or point envFile or --env-file at it.', doc: CONFIG },
  ENV_READ: { exit: usage, when: 'the env file cannot be read (a folder, no permission); nothing was touched', hint: 'Check the path (envFile, --env-file) and its permissions.', doc: CONFIG },
  ENV_FILE_WORLD_WRITABLE: { exit: usage, when: 'every user may write the env file or its folder', hint: 'chmod o-w the file (or folder) named in the message.', doc: CONFIG },
  ENV_WRITE: { exit: failed, when: 'the env file cannot be written', hint: 'rotate needs write access to the env file and its folder.', doc: CONFIG },
  ENV_VALUE_UNSAFE: { exit: failed, when: 'a value to write holds characters an env file would mangle', hint: 'Write that line by hand.', doc: RUNBOOK },
  ENV_EDIT_MISMATCH: { exit: failed, when: 'an edited line would not read back as intended; nothing was written', hint: 'Write the line plainly (KEY=value) by hand, then run again.', doc: RUNBOOK },
  // dotenvx-encrypted env files (src/envfile/dotenvx.ts)
  DOTENVX_KEY_MISSING: { exit: usage, when: 'an env file is dotenvx-encrypted and rotate found no private key for it (environment, .env.keys beside it); nothing was changed', hint: 'Set DOTENV_PRIVATE_KEY[_<ENV>] in the environment or put .env.keys beside the file, then run again.', doc: DOTENVX },
  DOTENVX_KEY_WRONG: { exit: usage, when: "no private key rotate found belongs to the encrypted env file's public key; nothing was changed", hint: 'Give rotate the private key dotenvx encrypted this file with (environment or .env.keys).', doc: DOTENVX },
  DOTENVX_VALUE_MALFORMED: { exit: usage, when: "an encrypted: value does not decrypt with the file's private key (damaged, or encrypted to another key); nothing was changed", hint: 'Set the value again with `dotenvx set KEY value -f <file>`, then run again.', doc: DOTENVX },
  DOTENVX_TARGET: { exit: usage, when: "a dotenvx secret's target is not one dotenvx-encrypted env file with the public key line it names; nothing was changed", hint: 'Give the dotenvx secret a config whose envFile is the one encrypted file, and env its DOTENV_PUBLIC_KEY[_<ENV>] name.', doc: 'secrets/dotenvx.md#errors' },
  DOTENVX_KEY_IN_ENVIRONMENT: { exit: usage, when: "a keypair rotation found a DOTENV_PRIVATE_KEY* variable in rotate's environment, which would keep the old key; nothing was changed", hint: 'Keep the private key in .env.keys only while rotating the keypair, then hand the new key to what reads the variable.', doc: 'secrets/dotenvx.md#errors' },

  // The store: state, journal, backups, lock, master key
  LOCKED: { exit: locked, when: 'another rotation holds the lock', hint: 'Wait for it to finish; the message names its process and host.', doc: 'runbook.md#exit-4-locked' },
  STORE_CORRUPT: { exit: needsPerson, when: "a file or row of the store cannot be read, or a journaled rotation does not decode against its kind's schema (every kind alike)", hint: 'Restore the store from a backup, or move the damaged file aside.', doc: RESUME },
  // backups restore (#22 item 11)
  RESTORE_TARGET_SYMLINK: { exit: usage, when: '`backups restore --to` names a symbolic link; nothing was written', hint: 'Choose a new path for --to, or remove the link first.', doc: 'runbook.md#restoring-an-env-file-by-hand' },
  // Store on a full disk (#22 item 4)
  STORE_FULL: { exit: failed, when: 'a write to the file store failed: no space left on its device (ENOSPC, EDQUOT)', hint: 'Free space on the filesystem that holds the store (df -h), then run again.', doc: 'runbook.md#the-store-is-on-a-full-disk' },
  STORE_UNREACHABLE: { exit: failed, when: 'the postgres store cannot be used', hint: 'Check store.urlEnv, the role and its rights, and that the server is up.', doc: STORE },
  STORE_URL_MISSING: { exit: usage, when: 'store.urlEnv names a variable that is not set', hint: 'Export it before running rotate.', doc: STORE },
  STORE_URL_INVALID: { exit: usage, when: 'the store URL is not a postgresql:// URL', hint: 'Fix the variable store.urlEnv names; percent-encode a `/`, `?` or `#` in the password.', doc: STORE },
  MASTER_KEY_MISSING: { exit: usage, when: 'no master key is given (ROTATE_MASTER_KEY, else .rotate/master.key) but the store holds data sealed with one, or the postgres store has none', hint: 'Restore .rotate/master.key from your backup of it, or set ROTATE_MASTER_KEY to the key that sealed the store; rotate never makes a new key over sealed data.', doc: MASTER_KEY },
  // The store's owner, as ssh's StrictModes (#22 item 11)
  STORE_NOT_OWNED: { exit: usage, when: 'the store folder or master.key is owned by another user (not this user, not root)', hint: 'Run rotate as the owner, or chown the store to this user.', doc: STORE },
  STORE_NOT_PRIVATE: { exit: usage, when: 'the store folder or master.key can be read by group or others', hint: 'chmod 700 the store folder and chmod 600 master.key.', doc: STORE },
  MASTER_KEY_INVALID: { exit: usage, when: 'the master key is not 32 bytes', hint: 'Give 32 random bytes as 64 hex characters or base64.', doc: ENV_VARS },
  MASTER_KEY_MISMATCH: { exit: usage, when: 'the master key given is not the one that sealed the store (its key check); nothing was changed', hint: 'Set ROTATE_MASTER_KEY (or restore .rotate/master.key) to the key used then.', doc: MASTER_KEY },
  PENDING_RUN_KEY_MISSING: { exit: needsPerson, when: 'an interrupted run waits for `rotate resume`, and the master key that sealed its journal is missing', hint: 'Restore .rotate/master.key (or set ROTATE_MASTER_KEY) to that key, then run `rotate resume`.', doc: MASTER_KEY },
  PENDING_RUN_KEY_MISMATCH: { exit: needsPerson, when: 'an interrupted run waits for `rotate resume`, and the master key given is not the one that sealed its journal', hint: 'Give the key that sealed the store, then run `rotate resume`.', doc: MASTER_KEY },

  // jwt
  JWT_SECRET_MISSING: { exit: failed, when: 'the JWT secret is not set in the env file', hint: 'Add the variable (secrets.<id>.env, JWT_SECRET by default) to the env file.', doc: 'secrets/jwt.md' },
  JWT_SECRET_WEAK: { exit: failed, when: 'the secret to put in place is too short for HS256', hint: 'Rotate to a new secret instead.', doc: 'secrets/jwt.md' },

  // random
  RANDOM_SECRET_MISSING: { exit: failed, when: 'the random secret is not set in the env file', hint: 'Add the variable (secrets.<id>.env) to the env file.', doc: 'secrets/random.md' },

  // exchange-key
  EXCHANGE_KEY_MISSING: { exit: failed, when: 'the encryption key is not set in the env file', hint: 'Add it to the env file.', doc: EXCHANGE_KEY },
  EXCHANGE_KEY_NO_DATABASE_URL: { exit: failed, when: 'the database URL is not set in the env file', hint: 'Set it, or point databaseUrlEnv at the variable that holds it.', doc: EXCHANGE_KEY },
  EXCHANGE_KEY_DATABASE_URL_INVALID: { exit: usage, when: 'the database URL is not a postgresql:// URL', hint: 'Fix it; percent-encode a `/`, `?` or `#` in the password.', doc: EXCHANGE_KEY },
  EXCHANGE_KEY_DATABASE_UNREACHABLE: { exit: failed, when: 'the database cannot be reached', hint: 'Check that PostgreSQL is up and the URL is right.', doc: EXCHANGE_KEY },
  EXCHANGE_KEY_TABLES: { exit: failed, when: 'a configured table or column is missing or of the wrong type', hint: 'Fix secrets.<id>.tables in the config.', doc: EXCHANGE_KEY },
  EXCHANGE_KEY_UNDECRYPTABLE: { exit: failed, when: 'some values do not decrypt under the key', hint: 'Repair or re-enter those rows, then run the rotation again.', doc: EXCHANGE_KEY },
  EXCHANGE_KEY_OLD_VALUES: { exit: failed, when: 'at retirement, values are still under the old key (or do not decrypt): the old key stays in <env>_PREVIOUS', hint: 'Restart whatever still writes with the old key, then run `rotate resume`.', doc: EXCHANGE_KEY },

  // database (PostgreSQL)
  POSTGRES_URL_MISSING: { exit: failed, when: 'DATABASE_URL is not set in the env file', hint: 'Fix the env file or secrets.<id>.env.', doc: DATABASE },
  DATABASE_URL_CREDENTIAL_OVERRIDE: { exit: usage, when: 'a database URL sets user=, password=, passfile= or service= in its query string', hint: 'Keep the credentials in the userinfo only (postgresql://user:password@host/db).', doc: DATABASE },
  POSTGRES_URL_INVALID: { exit: failed, when: 'DATABASE_URL is not a postgresql:// URL', hint: 'Fix the env file or secrets.<id>.env.', doc: DATABASE },
  POSTGRES_URL_NO_PASSWORD: { exit: failed, when: 'DATABASE_URL has no password to rotate', hint: 'Fix the env file or secrets.<id>.env.', doc: DATABASE },
  POSTGRES_ADMIN_URL_MISSING: { exit: usage, when: 'adminUrlEnv names a variable that is not set', hint: 'Export it, or remove adminUrlEnv.', doc: DATABASE },
  POSTGRES_ADMIN_URL_INVALID: { exit: usage, when: 'the admin URL is not a postgresql:// URL', hint: 'Check secrets.<id>.adminUrlEnv.', doc: DATABASE },
  POSTGRES_ADMIN_CONNECT: { exit: failed, when: 'the admin connection failed (the message carries the SQLSTATE)', hint: 'Check the admin URL and the server.', doc: DATABASE },
  POSTGRES_UNREACHABLE: { exit: failed, when: 'the database server refused or did not answer a connection (down, unreachable, starting up)', hint: 'Start PostgreSQL or fix the network to it, then run again (`rotate resume` for an interrupted run).', doc: DATABASE },
  POSTGRES_CONNECT: { exit: failed, when: 'a connection failed (the message carries the SQLSTATE)', hint: 'Check the URL and the server.', doc: DATABASE },
  POSTGRES_COPY_NOT_LISTED: { exit: usage, when: 'another key holds the database password (in a URL for the same role, or whole) and is not in alsoUpdate', hint: 'Add the key to secrets.<id>.alsoUpdate, or stop it from holding the password.', doc: DATABASE },
  POSTGRES_ALSO_UPDATE_MISMATCH: { exit: usage, when: 'an alsoUpdate variable holds other credentials', hint: 'Remove it from alsoUpdate or align it.', doc: DATABASE },
  POSTGRES_ROLES_NOT_SET_UP: { exit: failed, when: 'the alternate-roles layout is missing', hint: 'Run `rotate setup <id> [--apply]`.', doc: DATABASE },
  POSTGRES_ROLE_NAME_INVALID: { exit: usage, when: 'a role name (URL user or secrets.<id>.roles) holds a control character', hint: 'Use a role name of printable characters.', doc: DATABASE },
  POSTGRES_ROLES_INVALID: { exit: failed, when: 'the roles for the alternate-roles setup are not usable', hint: 'Name three different roles without `$`.', doc: DATABASE },
  POSTGRES_SETUP_FAILED: { exit: failed, when: 'the setup SQL failed (often: not a superuser)', hint: 'Set adminUrlEnv, or run the printed SQL with psql.', doc: DATABASE },
  POSTGRES_NOTHING_TO_RESTORE: { exit: failed, when: 'rollback found no previous password for this role', hint: 'See `rotate history <id>`.', doc: DATABASE },

  // redis
  REDIS_URL_MISSING: { exit: failed, when: 'REDIS_URL is not set in the env file', hint: 'Add it, or set secrets.<id>.env to the variable that holds it.', doc: REDIS },
  REDIS_COPY_NOT_LISTED: { exit: usage, when: 'another key holds the Redis password (in a URL for the same user, or whole) and is not in alsoUpdate', hint: 'Add the key to secrets.<id>.alsoUpdate, or stop it from holding the password.', doc: REDIS },
  REDIS_ALSO_UPDATE_MISMATCH: { exit: usage, when: 'an alsoUpdate key holds another Redis user or password', hint: 'Remove it from alsoUpdate or make it hold the same user and password.', doc: REDIS },
  REDIS_URL_CREDENTIAL_OVERRIDE: { exit: usage, when: 'a Redis URL sets password=, username= or user= in its query string', hint: 'Keep the credentials in the userinfo only (redis://user:password@host:6379/0).', doc: REDIS },
  REDIS_URL_INVALID: { exit: usage, when: 'a Redis URL cannot be read', hint: 'Write it as redis://[user]:password@host:6379/0.', doc: REDIS },
  REDIS_URL_NO_PASSWORD: { exit: failed, when: 'the Redis URL has no password to rotate', hint: 'Write it as redis://:password@host:6379/0.', doc: REDIS },
  REDIS_UNREACHABLE: { exit: failed, when: 'Redis cannot be reached', hint: 'Check that Redis is running and the host and port are right.', doc: REDIS },
  REDIS_WRONGPASS: { exit: failed, when: 'Redis refused the password', hint: 'Check the password in the URL.', doc: REDIS },
  REDIS_AUTH_FAILED: { exit: failed, when: 'Redis refused to authenticate', hint: 'Check the user and password in the URL.', doc: REDIS },
  REDIS_ADMIN_URL_MISSING: { exit: failed, when: 'adminUrlEnv names a variable that is not set', hint: 'Export it before running rotate.', doc: REDIS },
  REDIS_ADMIN_AUTH: { exit: failed, when: 'no known password authenticates the admin user', hint: 'Set adminUrlEnv to a user whose password works.', doc: REDIS },
  REDIS_ADMIN_DENIED: { exit: failed, when: 'the admin connection lacks CONFIG or ACL', hint: 'Set adminUrlEnv to a user that has +@admin.', doc: REDIS },
  REDIS_USER_MISSING: { exit: failed, when: 'Redis has no ACL user of that name', hint: 'The user comes from the URL; check it and ACL LIST.', doc: REDIS },
  REDIS_STRATEGY_MISMATCH: { exit: failed, when: 'strategy requirepass with a URL that names a user', hint: 'Set secrets.<id>.strategy to "acl".', doc: REDIS },
  REDIS_ACL_FAILED: { exit: failed, when: 'ACL SETUSER failed', hint: 'Check the admin user and the Redis log.', doc: REDIS },
  REDIS_CONFIG_FAILED: { exit: failed, when: 'CONFIG SET requirepass failed', hint: 'Check the admin user and the Redis log.', doc: REDIS },
  REDIS_COMMAND_FAILED: { exit: failed, when: 'a Redis command failed', hint: 'Check the admin user and the Redis log.', doc: REDIS },
  REDIS_PERSIST_FAILED: { exit: failed, when: 'Redis could not save its aclfile or config file', hint: 'Check that redis-server can write the file and its folder.', doc: REDIS },
  REDIS_NEW_PASSWORD_MISSING: { exit: failed, when: 'the user does not hold the new password at retirement', hint: 'Someone changed the user since apply; run `rotate verify <id>`.', doc: REDIS },
  REDIS_RESTORE_MISSING: { exit: failed, when: 'the last rotation kept no previous password to restore', hint: 'See `rotate history <id>`.', doc: REDIS },

  // Operations: rotate mark
  MARK_DATE_INVALID: { exit: usage, when: '`rotate mark --rotated-at` is not a date, is in the future, or is older than the rotation rotate recorded', hint: 'Give the day the value was last changed, e.g. --rotated-at 2026-08-23 (UTC) or a full ISO 8601 time.', doc: 'recipes.md#adopting-rotate-record-earlier-rotations-with-rotate-mark' },

  // stripe
  STRIPE_KEY_NOT_HANDED_IN: { exit: failed, when: 'no new Stripe secret key was handed in', hint: 'Roll the key in the Dashboard and hand it in.', doc: STRIPE_HANDOVER },
  STRIPE_KEY_MALFORMED: { exit: failed, when: 'a handed-in value is not a Stripe key of the expected kind', hint: 'Copy the key again from the Dashboard.', doc: STRIPE_CHECKS },
  STRIPE_KEY_UNCHANGED: { exit: failed, when: 'the handed-in key is the one already in place', hint: 'Roll the key in the Dashboard first.', doc: STRIPE_CHECKS },
  STRIPE_MODE_MISMATCH: { exit: failed, when: 'live and test keys are mixed', hint: 'Hand in keys of the same mode as the current ones.', doc: STRIPE_CHECKS },
  STRIPE_ACCOUNT_MISMATCH: { exit: failed, when: 'the new key belongs to another Stripe account', hint: 'Roll the key in the Dashboard of the same account.', doc: STRIPE_CHECKS },
  STRIPE_ACCOUNT_UNKNOWN: { exit: failed, when: 'the account of the current key cannot be read', hint: 'Keep the current key working during the rotation (roll with an expiry).', doc: STRIPE_CHECKS },
  STRIPE_KEY_REFUSED: { exit: failed, when: 'Stripe refused a key (unknown, mistyped or expired)', hint: 'Copy the key again from the Dashboard (Developers -> API keys).', doc: STRIPE_FAILURES },
  STRIPE_KEY_PERMISSION: { exit: failed, when: 'a restricted key lacks a permission the call needs', hint: 'Grant the permission Stripe names, or hand in a standard secret key.', doc: STRIPE_FAILURES },
  STRIPE_NOT_FOUND: { exit: failed, when: 'Stripe has no such object', hint: 'Check secrets.stripe.webhook against the Dashboard, in the same mode as the key.', doc: STRIPE_FAILURES },
  STRIPE_UNREACHABLE: { exit: failed, when: 'Stripe cannot be reached', hint: 'Check secrets.stripe.apiBase and the network.', doc: STRIPE_FAILURES },
  STRIPE_API_ERROR: { exit: failed, when: 'Stripe answered with an error', hint: 'Retry later; see https://status.stripe.com when it persists.', doc: STRIPE_FAILURES },
  STRIPE_WEBHOOK_NOT_FOUND: { exit: failed, when: 'the webhook endpoint to rotate does not exist', hint: 'Check secrets.stripe.webhook against Developers -> Webhooks.', doc: STRIPE_FAILURES },
  STRIPE_WEBHOOK_AMBIGUOUS: { exit: failed, when: 'several webhook endpoints have the configured url', hint: 'Set secrets.stripe.webhook.endpointId to the one to rotate.', doc: STRIPE_FAILURES },
  STRIPE_NO_KEY: { exit: failed, when: 'the journal holds no Stripe key for the rotation', hint: 'Run `rotate status`.', doc: STRIPE_FAILURES },
  STRIPE_ROLLBACK_IMPOSSIBLE: { exit: failed, when: 'the previous Stripe key is gone or expired', hint: 'Roll a new key in the Dashboard and run `rotate stripe`.', doc: STRIPE_FAILURES },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose exit code is 2 (bad usage or config: nothing touched); `usageError` takes only these. */
export type UsageErrorCode = { [C in ErrorCode]: (typeof ERROR_CODES)[C]['exit'] extends typeof usage ? C : never }[ErrorCode];

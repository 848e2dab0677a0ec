// Gathers `rotate check`'s findings for a session: where each env file is kept (git, permissions, dotenvx), which
// values are reused or weak, and which secrets are overdue or never rotated. Reads only; never prints a value.
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Session } from '../engine/index.js';
import { readEnvFile } from '../envfile/file.js';
import { envFileModeFindings } from '../envfile/permissions.js';
import { plaintextKeysIn } from '../envfile/values.js';
import { fingerprint } from '../history/audit.js';
import { secretHealth } from '../monitoring/health.js';
import { envKeysOf } from '../secrets/index.js';
import { envFilesOf } from '../target/index.js';
import { type Finding, sortFindings, strengthFinding, urlPassword } from './findings.js';

/** Runs `git` with these arguments in `cwd`: its exit code (127: git is not installed). Injected for tests. */
export type GitRunner = (args: string[], cwd: string) => Promise<number>;

/** Values shorter than this are not compared for reuse: `true`, `8000`, `production` repeat by design. */
const MIN_REUSE_LENGTH = 8;

export async function checkFindings(session: Session, git: GitRunner): Promise<Finding[]> {
  const findings: Finding[] = [];
  const ids = Object.keys(session.config.secrets);
  const keysOf = (id: string) => envKeysOf(session.config.secrets[id]!);
  const managedKeys = [...new Set(ids.flatMap(keysOf))];

  for (const path of envFilesOf(session.config.target)) findings.push(...(await envFileFindings(path, managedKeys, git)));
  findings.push(...(await storeFindings(session)));

  const { values } = await session.target.read();
  const examples = await exampleValues(envFilesOf(session.config.target));
  const where = (key: string) => `${session.target.description}: ${key}`;
  for (const id of ids) {
    const config = session.config.secrets[id]!;
    const [main] = keysOf(id);
    const value = main ? values[main] : undefined;
    if (!main || !value) continue;
    const judged = urlPassword(value) ?? value;
    const weak = strengthFinding({ secret: id, kind: config.kind, key: main, where: where(main), value: judged, exampleValues: examples });
    if (weak && config.kind !== 'stripe') findings.push(weak);
    // The same value under a key that is not one of this secret's declared copies.
    const own = new Set(keysOf(id));
    const others = Object.keys(values).filter((key) => !own.has(key) && !key.startsWith('DOTENV_PUBLIC_KEY'));
    for (const key of others) {
      const other = values[key]!;
      const same = other === value || (urlPassword(other) !== undefined && urlPassword(other) === urlPassword(value));
      if (same && value.length >= MIN_REUSE_LENGTH && judged.length >= MIN_REUSE_LENGTH) {
        const owner = ids.find((other) => keysOf(other).includes(key));
        findings.push({
          id: 'value-reused',
          severity: 'error',
          secret: id,
          where: where(`${main} and ${key}`),
          message: `${key}${owner ? ` (secret ${owner})` : ''} holds the same value as ${main}: one leak exposes both, and a rotation of one leaves the other`,
          fix: owner
            ? `rotate ${owner} --yes so that it gets a value of its own`
            : `give ${key} a value of its own, or declare it a copy: "secrets": { "${id}": { "alsoUpdate": ["${key}"] } }`,
        });
      }
    }
  }
  findings.push(...(await acrossEnvironments(session, ids, values)));
  findings.push(...(await scheduleFindings(session)));
  return sortFindings(findings);
}

/** Git (tracked, not ignored, unless dotenvx-encrypted), permissions, and plaintext in a dotenvx file. */
export async function envFileFindings(path: string, managedKeys: string[], git: GitRunner): Promise<Finding[]> {
  const out: Finding[] = [];
  const file = await readEnvFile(path);
  if (!file.exists) return out;
  const plaintext = plaintextKeysIn(path, file.text, managedKeys);
  const encrypted = file.text.includes('DOTENV_PUBLIC_KEY') && plaintext.length === 0;
  for (const key of plaintext) {
    out.push({
      id: 'dotenvx-plaintext',
      severity: 'error',
      where: `${path}: ${key}`,
      message: `${key} is in plaintext in ${path}, which dotenvx encrypts: anyone with the file (or its git history) reads it`,
      fix: `rotate the secret that ${key} holds: rotate writes the new value encrypted to the file's public key`,
    });
  }
  const dir = dirname(path);
  const inRepo = (await git(['rev-parse', '--is-inside-work-tree'], dir)) === 0;
  if (inRepo && !encrypted) {
    const name = basename(path);
    if ((await git(['ls-files', '--error-unmatch', '--', name], dir)) === 0) {
      out.push({
        id: 'env-file-tracked',
        severity: 'error',
        where: path,
        message: `${path} is tracked by git: every value in it is in the repository's history`,
        fix: `git rm --cached ${name} && echo ${name} >> .gitignore; then rotate every secret it holds (rotate --all --yes --emergency --reason "env file was committed"), or encrypt it with dotenvx`,
      });
    } else if ((await git(['check-ignore', '-q', '--', name], dir)) !== 0) {
      out.push({
        id: 'env-file-not-ignored',
        severity: 'warning',
        where: path,
        message: `${path} is not ignored by git: a \`git add .\` would commit it`,
        fix: `echo ${name} >> ${join(dir, '.gitignore')} (or encrypt it with dotenvx)`,
      });
    }
  }
  // The same judgement (and severity) a run and a dry run say: envfile/permissions.ts.
  for (const { inRun: _, ...finding } of await envFileModeFindings(path)) out.push(finding);
  return out;
}

/** The file store's folder and master key must be private (the store itself refuses to open when they are not). */
export async function storeFindings(session: Session): Promise<Finding[]> {
  if (session.config.store.type !== 'file') return [];
  const out: Finding[] = [];
  for (const path of [session.store.location, join(session.store.location, 'master.key')]) {
    const mode = await stat(path).then(
      (s) => s.mode,
      () => undefined,
    );
    if (mode !== undefined && mode & 0o077) {
      out.push({
        id: 'store-readable',
        severity: 'error',
        where: path,
        message: `${path} is open to group or others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}): it holds the master key or what it seals`,
        fix: `chmod ${path.endsWith('master.key') ? '600' : '700'} ${path}`,
      });
    }
  }
  return out;
}

/** The values of a `.env.example` (or `.env.sample`) beside each env file: a secret holding one is a placeholder. */
async function exampleValues(envFiles: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const path of envFiles) {
    for (const name of ['.env.example', '.env.sample', `${basename(path)}.example`]) {
      const example = await readEnvFile(resolve(dirname(path), name)).catch(() => undefined);
      for (const value of Object.values(example?.values ?? {})) if (value.trim().length > 0) out.add(value);
    }
  }
  return out;
}

/**
 * The same value in two environments: this config's values against the newest fingerprint each other environment
 * recorded for a secret in the shared store's history (a rotation, a mark), compared as keyed fingerprints.
 */
export async function acrossEnvironments(session: Session, ids: string[], values: Readonly<Record<string, string>>): Promise<Finding[]> {
  const here = session.config.environment;
  if (!here) return [];
  const latest = new Map<string, { environment: string; secret: string; fp: string }>();
  for (const entry of await session.store.readHistory()) {
    if (!entry.environment || entry.environment === here || !entry.fingerprints?.new) continue;
    latest.set(`${entry.environment}/${entry.secret}`, {
      environment: entry.environment,
      secret: entry.secret,
      fp: entry.fingerprints.new,
    });
  }
  if (latest.size === 0) return [];
  const out: Finding[] = [];
  for (const id of ids) {
    const [main] = envKeysOf(session.config.secrets[id]!);
    const value = main ? values[main] : undefined;
    const fp = await fingerprint(session.store, value);
    if (!fp) continue;
    for (const other of latest.values()) {
      if (other.fp !== fp) continue;
      out.push({
        id: 'value-shared-across-environments',
        severity: 'error',
        secret: id,
        where: `${session.target.description}: ${main}`,
        message: `${main} holds the value ${other.environment} recorded for ${other.secret}: the environments share a secret`,
        fix: `rotate ${id} --yes here (each environment must have its own values)`,
      });
    }
  }
  return out;
}

async function scheduleFindings(session: Session): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const h of await secretHealth(session)) {
    if (h.state === 'never-rotated') {
      out.push({
        id: 'secret-never-rotated',
        severity: 'warning',
        secret: h.secret,
        where: `secrets.${h.secret}`,
        message: `${h.secret} was never rotated by rotate: its age is unknown`,
        fix: `rotate ${h.secret} --yes, or record the last rotation: rotate mark ${h.secret} --rotated-at YYYY-MM-DD`,
      });
    } else if (h.state === 'due' || h.state === 'retire-due') {
      out.push({
        id: 'secret-overdue',
        severity: 'error',
        secret: h.secret,
        where: `secrets.${h.secret}`,
        message:
          h.state === 'due'
            ? `${h.secret} is overdue since ${h.nextDue} (every ${h.intervalDays} days)`
            : `${h.secret}'s old value is still valid: its grace period ended ${h.graceUntil}`,
        fix: 'rotate --due --yes (cron runs it every night: docs/recipes.md)',
      });
    }
  }
  return out;
}

// The credentials a database rotation works with: the app's URL (env file) and the admin URL (environment), the
// old and new credentials a rotation carries (read back from the journal in any process), and the env changes.

import * as z from 'zod/mini';
import {
  type PostgresUrl,
  parsePostgresUrl,
  refuseCredentialOverrides,
  refuseUnsafeRoleName,
  withCredentials,
} from '../../connection/postgres-url.js';
import type { JsonValue } from '../../core-types.js';
import { RotateError, usageError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import type { EnvChanges, Rotation, RotationSchema, RotatorContext } from '../types.js';
import { copyOf } from './copies.js';
import type { PostgresSecretConfig } from './kind.js';

export type Ctx = RotatorContext<PostgresSecretConfig>;

/** The app's URL from the env file. */
export function appUrl(ctx: Ctx): PostgresUrl {
  const raw = ctx.env[ctx.config.env];
  if (raw === undefined || raw === '') {
    throw new RotateError('POSTGRES_URL_MISSING', `${ctx.config.env} is not set in ${ctx.location}`, {
      hint: `Add ${ctx.config.env}=postgresql://user:password@host:5432/db to the env file, or set secrets.${ctx.id}.env.`,
    });
  }
  const url = parsePostgresUrl(raw);
  if (!url) {
    throw new RotateError('POSTGRES_URL_INVALID', `${ctx.config.env} in ${ctx.location} is not a postgresql:// URL`, {
      hint: 'Expected postgresql://user:password@host:port/database (a driver suffix such as +asyncpg is fine); percent-encode a `/`, `?` or `#` in the password.',
    });
  }
  refuseCredentialOverrides(url, `${ctx.config.env} in ${ctx.location}`);
  refuseUnsafeRoleName(url.user, `${ctx.config.env} in ${ctx.location}`);
  if (url.password === undefined) {
    throw new RotateError('POSTGRES_URL_NO_PASSWORD', `${ctx.config.env} in ${ctx.location} has no password to rotate`, {
      hint: 'rotate changes the password embedded in the URL; a URL without one (peer or trust auth) has nothing to rotate.',
    });
  }
  return url;
}

/** The admin URL from the process environment, when `adminUrlEnv` is configured. */
export function adminUrl(ctx: Ctx): PostgresUrl | undefined {
  const name = ctx.config.adminUrlEnv;
  if (!name) return undefined;
  const raw = ctx.deps.environment[name];
  if (!raw) {
    throw usageError(
      'POSTGRES_ADMIN_URL_MISSING',
      `secrets.${ctx.id}.adminUrlEnv names ${name}, which is not set in the environment`,
      `Export ${name}=postgresql://admin:password@host:5432/db before running rotate, or remove adminUrlEnv.`,
    );
  }
  const url = parsePostgresUrl(raw);
  if (!url) {
    throw usageError('POSTGRES_ADMIN_URL_INVALID', `${name} is not a postgresql:// URL`, `Check secrets.${ctx.id}.adminUrlEnv.`);
  }
  refuseCredentialOverrides(url, `${name} (secrets.${ctx.id}.adminUrlEnv)`);
  refuseUnsafeRoleName(url.user, `${name} (secrets.${ctx.id}.adminUrlEnv)`);
  return url;
}

/** What a rotation carries, read back from `rotation.secrets` and `rotation.facts` (also in a new process). */
export interface RotationData {
  oldUrl: PostgresUrl;
  newUrl: PostgresUrl;
  oldUser: string;
  newUser: string;
  oldPassword: string;
  newPassword: string;
}

const postgresUrl = z.string().check(z.refine((text) => parsePostgresUrl(text) !== undefined, 'not a postgresql:// URL'));

/** What a database rotation keeps (`Rotator.journaled`): both URLs and passwords, and the facts its steps read. */
export const postgresJournaled = {
  secrets: z.object({ oldUrl: postgresUrl, newUrl: postgresUrl, oldPassword: z.string(), newPassword: z.string() }),
  facts: z.looseObject({
    oldUser: z.optional(z.string()),
    appliedAt: z.optional(z.string()),
    generatedAt: z.optional(z.string()),
    owner: z.optional(z.string()),
  }),
} satisfies RotationSchema;

/** A rotation read back was decoded against `postgresJournaled` (src/engine/sealing.ts): its URLs parse. */
export function rotationData(rotation: Rotation): RotationData {
  const oldUrl = parsePostgresUrl(rotation.secrets.oldUrl?.reveal() ?? '');
  const newUrl = parsePostgresUrl(rotation.secrets.newUrl?.reveal() ?? '');
  const oldPassword = rotation.secrets.oldPassword?.reveal();
  const newPassword = rotation.secrets.newPassword?.reveal();
  if (!oldUrl || !newUrl || oldPassword === undefined || newPassword === undefined) {
    throw new Error('unreachable: a database rotation without both URLs and passwords passed postgresJournaled');
  }
  return { oldUrl, newUrl, oldUser: oldUrl.user, newUser: newUrl.user, oldPassword, newPassword };
}

/** The facts a database rotation records that its later steps, and a rollback, read back. */
export interface PostgresFacts {
  /** The role the app used before the rotation (a rollback goes back to it). */
  oldUser?: string;
  /** Server time of the password change (alter-password); emergency retirement ends the sessions older than it. */
  appliedAt?: string;
  /** Server time when the rotation was generated: the cut when the rotation never reached apply. */
  generatedAt?: string;
  /** How many tables the old credentials could read; the new ones must read as many. */
  readableTables?: number;
  /** The tables the old credentials could read, when few enough to list. */
  tables?: string[];
  /** alternate-roles: the NOLOGIN role that owns the app's objects, and its two login roles. */
  owner?: string;
  logins?: [string, string];
}

export function postgresFacts(facts: Readonly<Record<string, JsonValue>>): PostgresFacts {
  const out: PostgresFacts = {};
  for (const name of ['oldUser', 'appliedAt', 'generatedAt', 'owner'] as const) {
    const value = facts[name];
    if (typeof value === 'string') out[name] = value;
  }
  if (typeof facts.readableTables === 'number') out.readableTables = facts.readableTables;
  if (Array.isArray(facts.tables)) out.tables = facts.tables.map(String);
  if (Array.isArray(facts.logins) && facts.logins.length === 2) out.logins = [String(facts.logins[0]), String(facts.logins[1])];
  return out;
}

/** A new password: 32 random bytes, base64url (no quoting in env files, no percent-encoding in URLs). */
export const newPassword = (ctx: Ctx): string => ctx.deps.randomBytes(32).toString('base64url');

/**
 * The `alsoUpdate` variables that hold the same credentials, with the new ones: a URL keeps its own scheme, host,
 * database and query string; a bare copy (`POSTGRES_PASSWORD`) becomes the new password. A listed variable that is
 * absent is skipped; one that holds other credentials stops the rotation (exit 2: rewriting it would break
 * something the operator did not mean to touch).
 */
export function alsoUpdateChanges(ctx: Ctx, old: PostgresUrl, user: string, password: string): EnvChanges {
  const changes: EnvChanges = {};
  for (const name of ctx.config.alsoUpdate) {
    if (name === ctx.config.env) continue;
    const raw = ctx.env[name];
    if (raw === undefined || raw === '') {
      ctx.deps.log.warn(`${name} (secrets.${ctx.id}.alsoUpdate) is not set in ${ctx.location}; skipped`);
      continue;
    }
    const url = parsePostgresUrl(raw);
    if (url) refuseCredentialOverrides(url, `${name} (secrets.${ctx.id}.alsoUpdate) in ${ctx.location}`);
    const copy = copyOf(raw, old.user, old.password ?? '');
    if (copy === undefined) {
      throw new RotateError(
        'POSTGRES_ALSO_UPDATE_MISMATCH',
        `${name} (secrets.${ctx.id}.alsoUpdate) holds neither ${ctx.config.env}'s password nor a URL with its user and password`,
        {
          hint: `Remove ${name} from secrets.${ctx.id}.alsoUpdate, or make it hold the same user and password.`,
        },
      );
    }
    changes[name] = new SecretValue(copy === 'bare' ? password : withCredentials(url!, user, password));
  }
  return changes;
}

/** Builds the Rotation both strategies produce. */
export function buildRotation(ctx: Ctx, old: PostgresUrl, next: { user: string; password: string }, facts: Rotation['facts']): Rotation {
  const newUrl = withCredentials(old, next.user, next.password);
  const env: EnvChanges = {
    [ctx.config.env]: new SecretValue(newUrl),
    ...alsoUpdateChanges(ctx, old, next.user, next.password),
  };
  return {
    env,
    secrets: {
      oldUrl: new SecretValue(ctx.env[ctx.config.env] ?? ''),
      newUrl: new SecretValue(newUrl),
      oldPassword: new SecretValue(old.password ?? ''),
      newPassword: new SecretValue(next.password),
    },
    facts: {
      strategy: ctx.config.strategy,
      oldUser: old.user,
      newUser: next.user,
      alsoUpdated: Object.keys(env).filter((name) => name !== ctx.config.env),
      ...facts,
    },
  };
}

// The connection that changes passwords, and how the server keeps them across a restart.

import { RotateError } from '../../errors.js';
import type { SecretValue } from '../../secret-value.js';
import type { Rotation, RotatorContext } from '../types.js';
import { type Authenticated, command, connectAs, type RedisClient, replyCode } from './connection.js';
import type { RedisSecretConfig } from './kind.js';
import { parseRedisUrl, type RedisUrl } from './url.js';

export type Ctx = RotatorContext<RedisSecretConfig>;

/** The app's URL as the env file holds it now. */
export function appUrl(ctx: Ctx): { raw: string; url: RedisUrl } {
  const name = ctx.config.env;
  const raw = ctx.env[name];
  if (raw === undefined || raw === '') {
    throw new RotateError('REDIS_URL_MISSING', `${name} is not set in ${ctx.location}`, {
      hint: `Add ${name}=redis://:password@host:6379/0 to the env file, or set secrets.${ctx.id}.env to the variable that holds it.`,
    });
  }
  return { raw, url: parseRedisUrl(raw, name) };
}

export interface Admin extends Authenticated {
  /** `admin-url` (secrets.<id>.adminUrlEnv) or `app-url` (the app's own user). */
  via: 'admin-url' | 'app-url';
}

/**
 * The admin connection: the URL in the environment variable named by `adminUrlEnv` when configured, else the app's
 * own URL. Without an admin URL it tries the env file's password, then the rotation's old and new ones, so that
 * `rotate resume` connects whichever of them the server holds after a crash.
 */
export async function openAdmin(ctx: Ctx, rotation?: Rotation): Promise<Admin> {
  const envName = ctx.config.adminUrlEnv;
  if (envName) {
    const raw = ctx.deps.environment[envName];
    if (!raw) {
      throw new RotateError('REDIS_ADMIN_URL_MISSING', `the environment variable ${envName} is not set`, {
        hint: `secrets.${ctx.id}.adminUrlEnv names it: export ${envName}=redis://admin:password@host:6379 before running rotate.`,
      });
    }
    const url = parseRedisUrl(raw, envName);
    return { ...(await connectAs(url, url.password)), via: 'admin-url' };
  }
  const { url } = appUrl(ctx);
  const candidates: SecretValue[] = [];
  for (const password of [url.password, rotation?.secrets.oldPassword, rotation?.secrets.newPassword]) {
    if (password && !candidates.some((known) => known.equals(password))) candidates.push(password);
  }
  let lastError: unknown;
  for (const password of candidates) {
    try {
      return { ...(await connectAs({ ...url, db: 0 }, password)), via: 'app-url' };
    } catch (error) {
      lastError = error;
      // Only a refused password is worth another try; an unreachable server is the same for every candidate.
      if (replyCode(error) !== 'REDIS_WRONGPASS') break;
    }
  }
  if (lastError instanceof RotateError) throw lastError;
  throw new RotateError('REDIS_ADMIN_AUTH', `no known password authenticates user ${url.user}`);
}

export type PersistenceMode = 'aclfile' | 'config-file' | 'none';

export interface Persistence {
  mode: PersistenceMode;
  aclfile: boolean;
  configFile: boolean;
}

export async function detectPersistence(client: RedisClient): Promise<Persistence> {
  const reply = await command<string[]>(client, 'CONFIG GET aclfile', ['CONFIG', 'GET', 'aclfile'], {
    code: 'REDIS_ADMIN_DENIED',
    hint: 'The admin connection needs the CONFIG command (+config or +@admin); set adminUrlEnv to a user that has it.',
  });
  const aclfile = Boolean(reply[1]);
  const info = await command<string>(client, 'INFO server', ['INFO', 'server'], { code: 'REDIS_ADMIN_DENIED' });
  const configFile = /^config_file:(.+)$/m.test(info.replace(/\r/g, ''));
  return { mode: aclfile ? 'aclfile' : configFile ? 'config-file' : 'none', aclfile, configFile };
}

export const persistenceHint = (id: string): string =>
  'Give redis-server an aclfile (ACL SAVE) or start it from a config file (CONFIG REWRITE), ' +
  `or pass --allow-unpersisted (secrets.${id}.allowUnpersisted) to rotate anyway: a Redis restart then brings the ` +
  'old password back and the app is refused.';

/**
 * Makes the current users survive a restart: `ACL SAVE` with an aclfile, else `CONFIG REWRITE` with a config file.
 * `rewriteConfig` also rewrites the config file when an aclfile exists (after `CONFIG SET requirepass`).
 */
export async function persist(ctx: Ctx, client: RedisClient, rewriteConfig = false): Promise<PersistenceMode> {
  const persistence = await detectPersistence(client);
  if (persistence.aclfile) {
    await command(client, 'ACL SAVE', ['ACL', 'SAVE'], {
      code: 'REDIS_PERSIST_FAILED',
      hint: 'Check that redis-server can write its aclfile (owner, mode, free space).',
    });
  }
  if (persistence.configFile && (!persistence.aclfile || rewriteConfig)) {
    await command(client, 'CONFIG REWRITE', ['CONFIG', 'REWRITE'], {
      code: 'REDIS_PERSIST_FAILED',
      hint: 'Check that redis-server can write its config file and the folder it is in.',
    });
  }
  // A bare copy of the password in the target (REDIS_PASSWORD, what a restarted Redis reads) is the persistence.
  const bareCopy = ctx.config.alsoUpdate.some((name) => ctx.env[name] !== undefined && !ctx.env[name]?.includes('://'));
  if (persistence.mode === 'none' && !bareCopy) {
    ctx.deps.log.warn(
      `redis: the server has neither an aclfile nor a config file; the password change is NOT persisted and a Redis restart reverts it`,
    );
  }
  return persistence.mode;
}

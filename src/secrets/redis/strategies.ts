// The two ways to change a Redis password. Every step reads the server's state first, so each one is idempotent
// and also finishes or undoes a half-done step after a crash.
//
// `acl` sends SHA-256 hashes (`#<hash>` adds, `!<hash>` removes): the same effect as `>new` / `<old`, but the
// plaintext never travels in an ACL command that MONITOR, the slowlog or a proxy could show.
import { createHash } from 'node:crypto';
import { RotateError } from '../../errors.js';
import { markSecret, type SecretValue } from '../../secret-value.js';
import { type Ctx, persist } from './admin.js';
import { command, type RedisClient } from './connection.js';

const passwordHash = (password: SecretValue): string => createHash('sha256').update(password.reveal(), 'utf8').digest('hex');

export interface Passwords {
  oldPassword: SecretValue;
  newPassword: SecretValue;
}

export interface Strategy {
  apply(ctx: Ctx, client: RedisClient, user: string, p: Passwords): Promise<void>;
  undo(ctx: Ctx, client: RedisClient, user: string, p: Passwords): Promise<void>;
  retire(ctx: Ctx, client: RedisClient, user: string, p: Passwords): Promise<void>;
}

/** `user`'s flags (`on`, `nopass`...) and the SHA-256 hashes of its passwords; `null` when it does not exist. */
export async function readUser(client: RedisClient, user: string): Promise<{ flags: string[]; passwords: string[] } | null> {
  const reply = await command<unknown[] | null>(client, `ACL GETUSER ${user}`, ['ACL', 'GETUSER', user], {
    code: 'REDIS_ADMIN_DENIED',
    hint: 'The admin connection needs the ACL command (+acl or +@admin); set adminUrlEnv to a user that has it.',
  });
  if (!reply) return null;
  const field = (name: string) => {
    for (let i = 0; i < reply.length; i += 2) if (reply[i] === name) return (reply[i + 1] as string[]) ?? [];
    return [];
  };
  return { flags: field('flags'), passwords: field('passwords') };
}

/** The SHA-256 hashes of `user`'s passwords; `null` when the user does not exist. */
async function userPasswords(client: RedisClient, user: string): Promise<string[] | null> {
  return (await readUser(client, user))?.passwords ?? null;
}

async function existingPasswords(client: RedisClient, user: string): Promise<string[]> {
  const hashes = await userPasswords(client, user);
  if (hashes === null) {
    throw new RotateError('REDIS_USER_MISSING', `Redis has no ACL user named ${user}`, {
      hint: 'The user comes from the URL (the `default` user when it names none); check the URL and ACL LIST.',
    });
  }
  return hashes;
}

const setUser = (client: RedisClient, user: string, modifier: string, what: string) =>
  command(client, `ACL SETUSER ${user} (${what})`, ['ACL', 'SETUSER', user, modifier], {
    code: 'REDIS_ACL_FAILED',
    sensitive: [modifier, modifier.slice(1)],
  });

const setRequirepass = (client: RedisClient, password: SecretValue) =>
  command(client, 'CONFIG SET requirepass', ['CONFIG', 'SET', 'requirepass', password.reveal()], {
    code: 'REDIS_CONFIG_FAILED',
    sensitive: [password.reveal()],
  });

/**
 * `requirepass` in a config file holds a plaintext that CONFIG REWRITE keeps writing even after ACL changes. When
 * the `default` user is left with exactly the new password, setting requirepass to it changes nothing in the ACL
 * and makes the rewritten file carry the new value instead of the retired one.
 */
async function syncRequirepass(client: RedisClient, user: string, newPassword: SecretValue): Promise<boolean> {
  if (user !== 'default') return false;
  const reply = await command<string[]>(client, 'CONFIG GET requirepass', ['CONFIG', 'GET', 'requirepass'], {
    code: 'REDIS_ADMIN_DENIED',
  });
  const current = reply[1] ?? '';
  markSecret(current);
  if (current === '' || current === newPassword.reveal()) return false;
  const hashes = await existingPasswords(client, user);
  if (hashes.length !== 1 || hashes[0] !== passwordHash(newPassword)) return false;
  await setRequirepass(client, newPassword);
  return true;
}

const aclStrategy: Strategy = {
  async apply(ctx, client, user, { newPassword }) {
    const hashes = await existingPasswords(client, user);
    if (!hashes.includes(passwordHash(newPassword))) await setUser(client, user, `#${passwordHash(newPassword)}`, 'add the new password');
    await persist(ctx, client);
    ctx.deps.log.info(`redis: user ${user} now accepts the new password next to the old one`);
  },

  async undo(ctx, client, user, { oldPassword, newPassword }) {
    const hashes = await existingPasswords(client, user);
    // Old first, so that the user is never left without a password that the restored env file holds.
    if (!hashes.includes(passwordHash(oldPassword)))
      await setUser(client, user, `#${passwordHash(oldPassword)}`, 'restore the old password');
    if (!oldPassword.equals(newPassword) && hashes.includes(passwordHash(newPassword))) {
      await setUser(client, user, `!${passwordHash(newPassword)}`, 'remove the new password');
    }
    await persist(ctx, client);
    ctx.deps.log.info(`redis: user ${user} is back to the old password only`);
  },

  async retire(ctx, client, user, { oldPassword, newPassword }) {
    const hashes = await existingPasswords(client, user);
    if (!hashes.includes(passwordHash(newPassword))) {
      throw new RotateError('REDIS_NEW_PASSWORD_MISSING', `user ${user} does not hold the new password; the old one stays`, {
        hint: `Someone changed the user since apply; check ACL GETUSER and run \`rotate verify ${ctx.id}\`.`,
      });
    }
    if (!oldPassword.equals(newPassword) && hashes.includes(passwordHash(oldPassword))) {
      await setUser(client, user, `!${passwordHash(oldPassword)}`, 'remove the old password');
    }
    const synced = await syncRequirepass(client, user, newPassword);
    await persist(ctx, client, synced);
    ctx.deps.log.info(`redis: the old password of user ${user} is removed`);
  },
};

const requirepassStrategy: Strategy = {
  async apply(ctx, client, user, { newPassword }) {
    ctx.deps.log.warn(
      'redis: strategy requirepass leaves the default user exactly one password: from now until the services ' +
        'restart, new connections made with the old password are refused (use strategy acl for an overlap)',
    );
    await setRequirepass(client, newPassword);
    await persist(ctx, client, true);
    ctx.deps.log.info(`redis: requirepass of user ${user} is now the new password`);
  },

  async undo(ctx, client, user, { oldPassword }) {
    await setRequirepass(client, oldPassword);
    await persist(ctx, client, true);
    ctx.deps.log.info(`redis: requirepass of user ${user} is back to the old password`);
  },

  async retire(ctx, client, user, { oldPassword, newPassword }) {
    // Nothing to remove unless someone put the old password back since apply.
    const hashes = await existingPasswords(client, user);
    if (!oldPassword.equals(newPassword) && hashes.includes(passwordHash(oldPassword))) {
      await setRequirepass(client, newPassword);
      await persist(ctx, client, true);
    }
  },
};

export const strategies = { acl: aclStrategy, requirepass: requirepassStrategy } as const;

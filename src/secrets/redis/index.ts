// `rotate redis`: a new password for the app's Redis user, with no downtime (`acl`: two passwords overlap until
// the old one is retired) and no cache loss (nothing restarts Redis). See docs/secrets/redis.md.

import * as z from 'zod/mini';
import { type Check, check, type JsonValue } from '../../core-types.js';
import { describeError, RotateError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import type { EnvChanges, Rotation, Rotator } from '../types.js';
import { appUrl, type Ctx, detectPersistence, openAdmin } from './admin.js';
import { command, replyCode } from './connection.js';
import type { RedisFactsRecord, RedisSecretConfig } from './kind.js';
import { preflight } from './preflight.js';
import { alsoUpdateVars, pingAs, pingCheck } from './probe.js';
import { type Passwords, strategies } from './strategies.js';
import { describeTarget, parseRedisUrl, withPassword } from './url.js';

/** The passwords a Redis rotation carries: the user's old one and its new one. */
type RedisRotation = Rotation<{ oldPassword: SecretValue; newPassword: SecretValue }>;

const passwordsOf = (rotation: RedisRotation): Passwords => rotation.secrets;

/** The facts a Redis rotation records (preflight.ts writes them) that its later steps read back. */
interface RedisFacts {
  /** The ACL user whose password changes. */
  user?: string;
  /** DBSIZE before the rotation: an emptied database afterwards is what a lost cache looks like. */
  keysBefore?: number;
}

function redisFacts(facts: Readonly<Record<string, JsonValue>>): RedisFacts {
  return {
    ...(typeof facts.user === 'string' ? { user: facts.user } : {}),
    ...(typeof facts.keysBefore === 'number' ? { keysBefore: facts.keysBefore } : {}),
  };
}

const userOf = (rotation: RedisRotation, ctx: Ctx): string => redisFacts(rotation.facts).user ?? appUrl(ctx).url.user;

/** Runs `fn` with the admin connection and closes it. */
async function asAdmin<T>(
  ctx: Ctx,
  rotation: RedisRotation | undefined,
  fn: (admin: Awaited<ReturnType<typeof openAdmin>>) => Promise<T>,
): Promise<T> {
  const admin = await openAdmin(ctx, rotation);
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

export const redisRotator: Rotator<RedisSecretConfig, RedisRotation> = {
  kind: 'redis',
  journaled: {
    secrets: z.object({ oldPassword: z.string(), newPassword: z.string() }),
    facts: z.looseObject({ user: z.optional(z.string()), keysBefore: z.optional(z.number()) }),
  },

  preflight,

  async generate(ctx, restore) {
    const { raw, url } = appUrl(ctx);
    if (!url.password) {
      throw new RotateError('REDIS_URL_NO_PASSWORD', `${ctx.config.env} has no password to rotate`, {
        hint: 'Write it as redis://:password@host:6379/0.',
      });
    }
    if (ctx.config.strategy === 'requirepass' && url.user !== 'default') {
      throw new RotateError('REDIS_STRATEGY_MISMATCH', `strategy requirepass changes the default user, not ${url.user}`, {
        hint: `Set secrets.${ctx.id}.strategy to "acl".`,
      });
    }
    let newPassword: SecretValue;
    if (restore) {
      const previous = restore.secrets.oldPassword;
      if (!previous) {
        throw new RotateError('REDIS_RESTORE_MISSING', 'the last rotation kept no previous Redis password to restore', {
          hint: `See \`rotate history ${ctx.id}\`.`,
        });
      }
      newPassword = previous;
    } else {
      newPassword = new SecretValue(ctx.deps.randomBytes(32).toString('base64url'));
    }
    const also = alsoUpdateVars(ctx, url);
    const env: EnvChanges = { [ctx.config.env]: withPassword(raw, newPassword, ctx.config.env) };
    if (also.mismatched.length > 0) {
      const m = also.mismatched[0]!;
      throw new RotateError('REDIS_ALSO_UPDATE_MISMATCH', `${m.name} (secrets.${ctx.id}.alsoUpdate) ${m.reason}`, {
        hint: `Remove ${m.name} from secrets.${ctx.id}.alsoUpdate, or make it hold ${ctx.config.env}'s user and password.`,
      });
    }
    for (const name of also.update) env[name] = withPassword(ctx.env[name]!, newPassword, name);
    // A bare copy (REDIS_PASSWORD, which a Redis restart may read) becomes the new password itself.
    for (const name of also.bare) env[name] = newPassword;
    for (const { name, reason } of also.skipped) ctx.deps.log.info(`redis: ${name} is left as it is (${reason})`);

    const facts: RedisFactsRecord = {
      user: url.user,
      strategy: ctx.config.strategy,
      target: describeTarget(url),
      updatedVars: Object.keys(env),
      keysBefore: await pingAs(url, url.password),
    };
    if (also.skipped.length) facts.skippedVars = also.skipped.map((s) => `${s.name}: ${s.reason}`);
    if (restore) facts.restoring = true;
    facts.persistence = await asAdmin(ctx, undefined, async (admin) => (await detectPersistence(admin.client)).mode);
    return { env, secrets: { oldPassword: url.password, newPassword }, facts };
  },

  async apply(ctx, rotation) {
    await asAdmin(ctx, rotation, (admin) =>
      strategies[ctx.config.strategy].apply(ctx, admin.client, userOf(rotation, ctx), passwordsOf(rotation)),
    );
  },

  async undoApply(ctx, rotation) {
    await asAdmin(ctx, rotation, (admin) =>
      strategies[ctx.config.strategy].undo(ctx, admin.client, userOf(rotation, ctx), passwordsOf(rotation)),
    );
  },

  async verify(ctx, rotation) {
    const checks: Check[] = [];
    for (const [name, value] of Object.entries(rotation.env)) {
      if (!value) continue;
      if (ctx.env[name] !== value.reveal()) {
        checks.push(
          check(
            'redis-authenticates',
            `${name} authenticates`,
            false,
            `the env file does not hold the new ${name}`,
            'Check the env file and run `rotate resume`.',
          ),
        );
        continue;
      }
      if (value.equals(passwordsOf(rotation).newPassword)) continue; // a bare copy: the env file holds it, checked above
      checks.push(await pingCheck(name, value.reveal()));
    }
    const before = redisFacts(rotation.facts).keysBefore;
    try {
      const { url } = appUrl(ctx);
      const after = await pingAs(url, url.password);
      // Keys come and go (TTLs, eviction); an emptied database is what a lost cache looks like.
      const lost = before !== undefined && before > 0 && after === 0;
      checks.push(
        check(
          'redis-no-cache-loss',
          'no cache loss',
          !lost,
          `${before ?? '?'} keys before, ${after} after (${describeTarget(url)})`,
          'The database is empty: did Redis restart without persistence?',
        ),
      );
    } catch (error) {
      checks.push(check('redis-no-cache-loss', 'no cache loss', false, describeError(error)));
    }
    return checks;
  },

  async retire(ctx, rotation) {
    const user = userOf(rotation, ctx);
    await asAdmin(ctx, rotation, async (admin) => {
      await strategies[ctx.config.strategy].retire(ctx, admin.client, user, passwordsOf(rotation));
      if (!ctx.emergency) return;
      // Redis does not record which password a connection used: cutting every session of the user (but this one)
      // is the only way to end the ones opened with the old password. The restarted services reconnect with the new.
      const killed = await command<number>(admin.client, `CLIENT KILL USER ${user}`, ['CLIENT', 'KILL', 'USER', user, 'SKIPME', 'yes']);
      ctx.deps.log.warn(`redis: emergency: disconnected ${killed} connection(s) of user ${user}; clients using the new password reconnect`);
    });
  },

  async verifyRetired(ctx, rotation) {
    const { oldPassword } = passwordsOf(rotation);
    const { url } = appUrl(ctx);
    const name = `old password of user ${url.user} refused`;
    try {
      await pingAs(url, oldPassword);
      return [
        check(
          'old-value-refused',
          name,
          false,
          'a new connection still authenticates with the old password',
          'Run `rotate resume` or remove it with ACL SETUSER.',
        ),
      ];
    } catch (error) {
      const code = error instanceof RotateError ? error.code : replyCode(error);
      return [
        check(
          'old-value-refused',
          name,
          code === 'REDIS_WRONGPASS',
          code === 'REDIS_WRONGPASS' ? 'a new AUTH with it gets WRONGPASS' : describeError(error),
        ),
      ];
    }
  },

  async verifyCurrent(ctx) {
    const checks: Check[] = [];
    for (const name of [ctx.config.env, ...ctx.config.alsoUpdate]) {
      const raw = ctx.env[name];
      if (raw === undefined) {
        if (name === ctx.config.env)
          checks.push(check('redis-authenticates', `${name} authenticates`, false, `${name} is not set in the env file`));
        continue;
      }
      if (name !== ctx.config.env && !parseableWithPassword(raw, name)) continue;
      checks.push(await pingCheck(name, raw));
    }
    return checks;
  },
};

function parseableWithPassword(raw: string, name: string): boolean {
  try {
    return parseRedisUrl(raw, name).password !== undefined;
  } catch {
    return false;
  }
}

// Read-only probes: does a URL authenticate, how many keys are there, which env vars embed the app's password.

import { type Check, check } from '../../core-types.js';
import { describeError } from '../../errors.js';
import type { SecretValue } from '../../secret-value.js';
import type { Ctx } from './admin.js';
import { withConnection } from './connection.js';
import { describeTarget, parseRedisUrl, type RedisUrl } from './url.js';

/** AUTH + PING on a fresh connection; returns the database's key count (DBSIZE). */
export async function pingAs(url: RedisUrl, password: SecretValue | undefined): Promise<number> {
  return withConnection(url, password, async (client) => {
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
    return client.dbsize();
  });
}

/** A named AUTH + PING check of the URL held by env var `name`. */
export async function pingCheck(name: string, raw: string): Promise<Check> {
  try {
    const url = parseRedisUrl(raw, name);
    const keys = await pingAs(url, url.password);
    return check(
      'redis-authenticates',
      `${name} authenticates`,
      true,
      `AUTH + PING as ${describeTarget(url)} on a new connection (${keys} keys)`,
    );
  } catch (error) {
    return check(
      'redis-authenticates',
      `${name} authenticates`,
      false,
      describeError(error),
      `Fix ${name} in the env file (or the Redis user) so that a new connection with it can AUTH.`,
    );
  }
}

export interface AlsoUpdate {
  /** Vars that embed the app's password for the same user in a URL: rewritten with the new one. */
  update: string[];
  /** Vars that hold the app's password whole (`REDIS_PASSWORD`): replaced by the new one. */
  bare: string[];
  /** Vars left alone, with why (not set, not a Redis URL, a URL without a password). */
  skipped: { name: string; reason: string }[];
  /** Listed vars that hold ANOTHER Redis credential (other user or password): the run stops (exit 2). */
  mismatched: { name: string; reason: string }[];
}

/** Which `alsoUpdate` vars hold the app's password for the same user: in a URL, or whole. */
export function alsoUpdateVars(ctx: Ctx, app: RedisUrl): AlsoUpdate {
  const out: AlsoUpdate = { update: [], bare: [], skipped: [], mismatched: [] };
  for (const name of ctx.config.alsoUpdate) {
    if (name === ctx.config.env) continue;
    const raw = ctx.env[name];
    if (raw === undefined || raw === '') {
      out.skipped.push({ name, reason: 'not set in the env file' });
      continue;
    }
    if (app.password && raw === app.password.reveal()) {
      out.bare.push(name);
      continue;
    }
    let url: RedisUrl;
    try {
      url = parseRedisUrl(raw, name);
    } catch {
      out.skipped.push({ name, reason: 'not a redis:// URL' });
      continue;
    }
    if (!url.password) {
      out.skipped.push({ name, reason: 'a URL without a password' });
    } else if (!app.password || !url.password.equals(app.password)) {
      out.mismatched.push({ name, reason: 'holds another password' });
    } else if (url.user !== app.user) {
      out.mismatched.push({ name, reason: `the same password for user ${url.user}, not ${app.user}` });
    } else {
      out.update.push(name);
    }
  }
  return out;
}

/** A failing check (exit 2 in a real run) for listed vars that hold another Redis credential. */
export function mismatchCheck(ctx: Ctx, also: AlsoUpdate): Check {
  if (also.mismatched.length === 0) return check('copy-matches', 'alsoUpdate holds the same credential', true);
  return {
    ...check(
      'copy-matches',
      'alsoUpdate holds the same credential',
      false,
      also.mismatched.map((m) => `${m.name} (secrets.${ctx.id}.alsoUpdate) ${m.reason}`).join('; '),
      `Remove ${also.mismatched.map((m) => m.name).join(', ')} from secrets.${ctx.id}.alsoUpdate, or make it hold ${ctx.config.env}'s user and password.`,
    ),
    code: 'REDIS_ALSO_UPDATE_MISMATCH',
  };
}

/** Keys other than the secret's own and its `alsoUpdate` that hold the app's password (whole, or in a URL for the user). */
export function unlistedCopies(ctx: Ctx, app: RedisUrl): string[] {
  const listed = new Set([ctx.config.env, ...ctx.config.alsoUpdate]);
  const password = app.password;
  if (!password) return [];
  return Object.entries(ctx.env)
    .filter(([name, raw]) => {
      if (listed.has(name) || raw === '') return false;
      if (raw === password.reveal()) return true;
      if (!/^rediss?:\/\//i.test(raw)) return false;
      try {
        const url = parseRedisUrl(raw, name);
        return url.user === app.user && url.password !== undefined && url.password.equals(password);
      } catch {
        return false;
      }
    })
    .map(([name]) => name);
}

/** A failing check (exit 2 in a real run, before anything changes) when an unlisted key holds the password. */
export function copiesCheck(ctx: Ctx, app: RedisUrl): Check {
  const names = unlistedCopies(ctx, app);
  if (names.length === 0) return check('no-unlisted-copy', 'no unlisted copies', true, `no other key holds ${app.user}'s password`);
  return {
    ...check(
      'no-unlisted-copy',
      'no unlisted copies',
      false,
      `${names.join(', ')} in ${ctx.location} ${names.length === 1 ? 'holds' : 'hold'} ${app.user}'s current Redis password (in a URL or whole) and would keep the old one`,
      `Add ${names.join(', ')} to secrets.${ctx.id}.alsoUpdate (URLs are rewritten, bare copies replaced), or stop that key from holding the password.`,
    ),
    code: 'REDIS_COPY_NOT_LISTED',
  };
}

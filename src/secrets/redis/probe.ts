// Read-only probes: does a URL authenticate, how many keys are there, which env vars embed the app's password.

import { describeError } from '../../errors.js';
import type { SecretValue } from '../../secret-value.js';
import { type Check, check } from '../types.js';
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
    return check(`${name} authenticates`, true, `AUTH + PING as ${describeTarget(url)} on a new connection (${keys} keys)`);
  } catch (error) {
    return check(
      `${name} authenticates`,
      false,
      describeError(error),
      `Fix ${name} in the env file (or the Redis user) so that a new connection with it can AUTH.`,
    );
  }
}

export interface AlsoUpdate {
  /** Vars that embed the app's password for the same user: rewritten with it. */
  update: string[];
  /** Vars left alone, with why (not set, no password, another password or user). */
  skipped: { name: string; reason: string }[];
}

/** Which `alsoUpdate` vars embed the same password for the same user as the app's URL. */
export function alsoUpdateVars(ctx: Ctx, app: RedisUrl): AlsoUpdate {
  const out: AlsoUpdate = { update: [], skipped: [] };
  for (const name of ctx.config.alsoUpdate) {
    const raw = ctx.env[name];
    if (raw === undefined || raw === '') {
      out.skipped.push({ name, reason: 'not set in the env file' });
      continue;
    }
    let url: RedisUrl;
    try {
      url = parseRedisUrl(raw, name);
    } catch {
      out.skipped.push({ name, reason: 'not a redis:// URL' });
      continue;
    }
    if (!url.password || !app.password || !url.password.equals(app.password)) {
      out.skipped.push({ name, reason: 'does not embed the same password' });
    } else if (url.user !== app.user) {
      out.skipped.push({ name, reason: `same password but for user ${url.user}, not ${app.user}` });
    } else {
      out.update.push(name);
    }
  }
  return out;
}

// Read-only checks before a Redis rotation: the current URL works, the admin connection may change the user, and
// the server can persist the change. Each failure is a check with a hint; nothing here writes.

import { type Check, check } from '../../core-types.js';
import { describeError, RotateError } from '../../errors.js';
import type { Preflight } from '../types.js';
import { appUrl, type Ctx, detectPersistence, openAdmin, persistenceHint } from './admin.js';
import { command, type RedisClient } from './connection.js';
import type { RedisFactsRecord } from './kind.js';
import { alsoUpdateVars, copiesCheck, mismatchCheck, pingAs } from './probe.js';
import { readUser } from './strategies.js';
import { describeTarget } from './url.js';

/** `ACL DRYRUN` (Redis 7+) says whether the admin user may run a command without running it. */
async function mayRun(client: RedisClient, args: string[]): Promise<string | undefined> {
  const whoami = await command<string>(client, 'ACL WHOAMI', ['ACL', 'WHOAMI']);
  try {
    const reply = await client.call('ACL', 'DRYRUN', whoami, ...args);
    return reply === 'OK' ? undefined : String(reply);
  } catch {
    return undefined; // Redis 6 has no DRYRUN; the GETUSER / CONFIG GET probes below still prove access.
  }
}

export async function preflight(ctx: Ctx): Promise<Preflight> {
  const checks: Check[] = [];
  const facts: RedisFactsRecord = { strategy: ctx.config.strategy };
  const name = ctx.config.env;
  let app: ReturnType<typeof appUrl>;
  try {
    app = appUrl(ctx);
  } catch (error) {
    const failing = check('redis-url', `${name} is a Redis URL`, false, describeError(error), (error as { hint?: string }).hint);
    // Credentials in the query string are bad input: the check carries the code, and the engine stops a run with it
    // (exit 2) before anything changes; a dry run shows the check.
    const stops = error instanceof RotateError && error.code === 'REDIS_URL_CREDENTIAL_OVERRIDE';
    checks.push(stops ? { ...failing, code: error.code } : failing);
    return { checks, facts };
  }
  const { url } = app;
  facts.user = url.user;
  facts.target = describeTarget(url);
  if (!url.password) {
    checks.push(
      check(
        'redis-url-has-password',
        `${name} holds a password`,
        false,
        'the URL has no password',
        'Rotation changes the password in the URL; write it as redis://:password@host:6379/0.',
      ),
    );
    return { checks, facts };
  }
  if (ctx.config.strategy === 'requirepass' && url.user !== 'default') {
    checks.push(
      check(
        'redis-strategy-fits-user',
        'strategy fits the user',
        false,
        `requirepass sets the default user's password, but ${name} authenticates as ${url.user}`,
        `Use strategy acl for user ${url.user}.`,
      ),
    );
  }

  try {
    const keys = await pingAs(url, url.password);
    facts.keysBefore = keys;
    checks.push(check('redis-authenticates', `${name} authenticates`, true, `AUTH + PING as ${describeTarget(url)} (${keys} keys)`));
  } catch (error) {
    checks.push(
      check(
        'redis-authenticates',
        `${name} authenticates`,
        false,
        describeError(error),
        `Fix ${name} first: rotation starts from a working password.`,
      ),
    );
    return { checks, facts };
  }

  const also = alsoUpdateVars(ctx, url);
  checks.push(mismatchCheck(ctx, also), copiesCheck(ctx, url));
  facts.updatedVars = [name, ...also.update, ...also.bare];
  if (also.skipped.length) facts.skippedVars = also.skipped.map((s) => `${s.name}: ${s.reason}`);

  let admin: Awaited<ReturnType<typeof openAdmin>>;
  try {
    admin = await openAdmin(ctx);
  } catch (error) {
    checks.push(check('admin-connects', 'admin connection', false, describeError(error), (error as { hint?: string }).hint));
    return { checks, facts };
  }
  try {
    facts.adminVia = admin.via;
    const changeArgs = ctx.config.strategy === 'acl' ? ['ACL', 'SETUSER', url.user] : ['CONFIG', 'SET', 'requirepass', 'x'];
    const denied = await mayRun(admin.client, changeArgs);
    const user = await readUser(admin.client, url.user);
    const hashes = user?.passwords;
    if (denied) {
      checks.push(
        check(
          'redis-admin-may-change-password',
          'admin may change the password',
          false,
          denied,
          'Set adminUrlEnv to a user with +@admin (ACL and CONFIG).',
        ),
      );
    } else if (!user || !hashes) {
      checks.push(check('redis-admin-may-change-password', 'admin may change the password', false, `Redis has no ACL user ${url.user}`));
    } else if (user.flags.includes('nopass')) {
      // Redis accepts any password for a nopass user; giving it one would refuse every client at once.
      checks.push(
        check(
          'redis-admin-may-change-password',
          'admin may change the password',
          false,
          `user ${url.user} is nopass: it accepts any password, so there is none to rotate`,
          `Give ${url.user} a password first (ACL SETUSER ${url.user} resetpass >...) and update ${name}.`,
        ),
      );
    } else {
      facts.passwordsBefore = hashes.length;
      checks.push(
        check(
          'redis-admin-may-change-password',
          'admin may change the password',
          true,
          `${admin.via === 'admin-url' ? 'admin URL' : 'app user'} may run ${changeArgs.slice(0, 2).join(' ')}; user ${url.user} has ${hashes.length} password(s)`,
        ),
      );
    }
    const persistence = await detectPersistence(admin.client);
    facts.persistence = persistence.mode;
    if (persistence.mode !== 'none') {
      const saveArgs = persistence.mode === 'aclfile' ? ['ACL', 'SAVE'] : ['CONFIG', 'REWRITE'];
      const saveDenied = await mayRun(admin.client, saveArgs);
      checks.push(
        check(
          'redis-change-persisted',
          'the change survives a Redis restart',
          !saveDenied,
          saveDenied ?? `${saveArgs.join(' ')} (${persistence.mode})`,
          `Let the admin user run ${saveArgs.join(' ')}.`,
        ),
      );
    } else if (also.bare.length > 0) {
      checks.push(
        check(
          'redis-change-persisted',
          'the change survives a Redis restart',
          true,
          `persisted in ${also.bare.join(', ')}: the copy Redis reads when it restarts (no aclfile, no config file)`,
        ),
      );
    } else if (ctx.config.allowUnpersisted) {
      checks.push(
        check(
          'redis-change-persisted',
          'the change survives a Redis restart',
          true,
          'NOT persisted: no aclfile and no config file (allowed by --allow-unpersisted)',
        ),
      );
    } else {
      checks.push(
        check(
          'redis-change-persisted',
          'the change survives a Redis restart',
          false,
          'the server has neither an aclfile nor a config file',
          persistenceHint(ctx.id),
        ),
      );
    }
    if (ctx.emergency) {
      const killDenied = await mayRun(admin.client, ['CLIENT', 'KILL', 'USER', url.user]);
      checks.push(
        check(
          'redis-admin-may-disconnect',
          'admin may disconnect the user (--emergency)',
          !killDenied,
          killDenied ?? `CLIENT KILL USER ${url.user}`,
          'Let the admin user run CLIENT KILL.',
        ),
      );
    }
  } catch (error) {
    checks.push(
      check(
        'redis-admin-may-change-password',
        'admin may change the password',
        false,
        describeError(error),
        (error as { hint?: string }).hint,
      ),
    );
  } finally {
    await admin.close();
  }
  return { checks, facts };
}

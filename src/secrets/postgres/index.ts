import { describeTarget, type PostgresUrl, parsePostgresUrl } from '../../connection/postgres-url.js';
import { type Check, check } from '../../core-types.js';
import { RotateError } from '../../errors.js';
import type { Rotation, Rotator } from '../types.js';
import { sessionsLeft } from './admin.js';
import { alterPassword } from './alter-password.js';
import { alternateRoles } from './alternate-roles.js';
import { copiesCheck, isBareValue } from './copies.js';
import { alsoUpdateChanges, appUrl, buildRotation, type Ctx, postgresFacts, postgresJournaled, rotationData } from './credentials.js';
import { connectError, readableTables, reason, tableOwners, tryLogin, withClient } from './db.js';
import type { PostgresPlanFacts, PostgresSecretConfig } from './kind.js';
import type { Strategy } from './strategy.js';

export { type AlternateRoles, applyRoleSetup, roleSetupSql, setupRolesOf } from './role-setup.js';

const strategyOf = (ctx: Ctx): Strategy => (ctx.config.strategy === 'alternate-roles' ? alternateRoles : alterPassword);

/**
 * Bad input found in preflight that stops the whole run (exit 2): a failing check carrying its code, which the engine
 * turns back into that error before anything changes (a dry run shows the check). A rotator never throws to stop a run.
 */
const STOPS_THE_RUN = new Set<string>(['DATABASE_URL_CREDENTIAL_OVERRIDE', 'POSTGRES_ALSO_UPDATE_MISMATCH', 'POSTGRES_ROLE_NAME_INVALID']);

/** The failing check with the error's code when the error stops the run. */
const failedWith = (failing: Check, error: RotateError): Check =>
  STOPS_THE_RUN.has(error.code) ? { ...failing, code: error.code } : failing;

// Table lists above this size are kept as a count only, so the history stays small.
const MAX_LISTED_TABLES = 500;

/** Every env var this secret writes that holds a URL, parsed (the main one first); bare copies are no connection. */
function envUrls(ctx: Ctx): { name: string; url: PostgresUrl | undefined }[] {
  const also = ctx.config.alsoUpdate.filter((n) => n !== ctx.config.env && !isBareValue(ctx.env[n] ?? ''));
  return [ctx.config.env, ...also]
    .filter((name) => ctx.env[name] !== undefined && ctx.env[name] !== '')
    .map((name) => ({ name, url: parsePostgresUrl(ctx.env[name]!) }));
}

/** A new connection with each URL in the env file, and the tables the main one can read. */
async function currentChecks(ctx: Ctx, expected?: string[]): Promise<{ checks: Check[]; tables?: string[] }> {
  const checks: Check[] = [];
  let tables: string[] | undefined;
  for (const { name, url } of envUrls(ctx)) {
    if (!url) {
      checks.push(
        check('database-connects', `${name} connects`, false, `${name} is not a postgresql:// URL`, `Fix ${name} in ${ctx.location}.`),
      );
      continue;
    }
    try {
      const seen = await withClient(url, (client) => readableTables(client));
      if (name === ctx.config.env) tables = seen;
      checks.push(
        check('database-connects', `${name} connects`, true, `new connection as ${describeTarget(url)}; ${seen.length} tables readable`),
      );
    } catch (error) {
      checks.push(
        check(
          'database-connects',
          `${name} connects`,
          false,
          `${describeTarget(url)}: ${reason(error)}`,
          `Check ${name} in ${ctx.location} and that the server is reachable.`,
        ),
      );
    }
  }
  if (tables && expected) {
    const missing = expected.filter((t) => !tables!.includes(t));
    checks.push(
      check(
        'database-tables-readable',
        'app tables readable',
        missing.length === 0,
        missing.length === 0
          ? `all ${expected.length} tables readable before are readable now`
          : `${missing.length} of ${expected.length} tables no longer readable: ${missing.slice(0, 10).join(', ')}`,
        'The new credentials lack privileges the old ones had; check role memberships and GRANTs.',
      ),
    );
  }
  return { checks, tables };
}

export const postgresRotator: Rotator<PostgresSecretConfig> = {
  kind: 'postgres',
  journaled: postgresJournaled,

  async preflight(ctx) {
    let app: PostgresUrl;
    try {
      app = appUrl(ctx);
    } catch (error) {
      if (!(error instanceof RotateError)) throw error;
      return { checks: [failedWith(check('database-url', 'database URL', false, error.message, error.hint), error)] };
    }
    // Before any connection: a copy of the password that rotate would leave behind stops the run (exit 2).
    const copies = copiesCheck(ctx, app);
    const { checks, tables } = await currentChecks(ctx);
    checks.unshift(copies);
    const facts: PostgresPlanFacts = { role: app.user, target: describeTarget(app), strategy: ctx.config.strategy };
    if (!tables) return { checks, facts };
    facts.readableTables = tables.length;
    try {
      // The same check generate makes: every alsoUpdate variable embeds these credentials (a dry run catches it).
      alsoUpdateChanges(ctx, app, app.user, app.password ?? '');
      facts.tableOwners = await withClient(app, tableOwners);
      const strategy = await strategyOf(ctx).preflight(ctx, app);
      checks.push(...strategy.checks);
      Object.assign(facts, strategy.facts);
    } catch (error) {
      if (error instanceof RotateError) {
        checks.push(failedWith(check('preflight-error', error.code.toLowerCase(), false, error.message, error.hint), error));
      } else {
        checks.push(check('preflight-error', 'preflight', false, reason(error)));
      }
    }
    return { checks, facts };
  },

  async generate(ctx, restore?: Rotation) {
    const app = appUrl(ctx);
    let before: { tables: string[]; now: string };
    try {
      before = await withClient(app, async (client) => ({
        tables: await readableTables(client),
        now: (await client.query<{ t: string }>('SELECT statement_timestamp()::text AS t')).rows[0]!.t,
      }));
    } catch (error) {
      throw connectError(
        'POSTGRES_CONNECT',
        `cannot connect with ${ctx.config.env} (${describeTarget(app)})`,
        error,
        `Run \`rotate verify ${ctx.id}\`; the current credentials must work before a rotation.`,
      );
    }
    const next = await strategyOf(ctx).next(ctx, app, restore);
    return buildRotation(ctx, app, next, {
      ...next.facts,
      readableTables: before.tables.length,
      ...(before.tables.length <= MAX_LISTED_TABLES ? { tables: before.tables } : {}),
      generatedAt: before.now,
    });
  },

  apply: (ctx, rotation) => strategyOf(ctx).apply(ctx, rotation),
  undoApply: (ctx, rotation) => strategyOf(ctx).undoApply(ctx, rotation),
  retire: (ctx, rotation) => strategyOf(ctx).retire(ctx, rotation),

  /** The old login is refused (its password changed, or its role expired); after --emergency none of its sessions is left. */
  async verifyRetired(ctx, rotation) {
    const data = rotationData(rotation);
    const retired = strategyOf(ctx).retired(ctx, rotation, data);
    const login = await tryLogin(data.oldUrl, data.oldUser, data.oldPassword);
    const checks = [
      check(
        'old-value-refused',
        retired.check,
        login.outcome === 'refused',
        login.outcome === 'ok' ? retired.stillWorks : login.detail,
        retired.hint,
      ),
    ];
    if (ctx.emergency) {
      const { where, params, remain } = retired.sessions;
      const left = await withClient(data.newUrl, (client) => sessionsLeft(ctx, client, where, params));
      checks.push(check('database-old-sessions-ended', 'old sessions ended', left === 0, `${left} ${remain}`));
    }
    return checks;
  },

  async verify(ctx, rotation) {
    const data = rotationData(rotation);
    const inEnv = parsePostgresUrl(ctx.env[ctx.config.env] ?? '');
    const checks = [
      check(
        'env-key-holds-new',
        'env file has the new credentials',
        inEnv?.user === data.newUser && inEnv.password === data.newPassword,
        `${ctx.config.env} names ${inEnv?.user ?? 'nothing'}; expected ${data.newUser} with the new password`,
        'The env file was not updated; the engine restores it on failure.',
      ),
    ];
    const facts = postgresFacts(rotation.facts);
    const { checks: current, tables } = await currentChecks(ctx, facts.tables);
    checks.push(...current);
    const expectedCount = facts.readableTables ?? 0;
    if (tables && !facts.tables) {
      checks.push(
        check(
          'database-tables-readable',
          'app tables readable',
          tables.length >= expectedCount,
          `${tables.length} tables readable now, ${expectedCount} before`,
        ),
      );
    }
    if (tables && data.oldUser !== data.newUser) {
      // The old role is a different role: compare its privileges live, as the new session sees them.
      const lost = await withClient(data.newUrl, async (client) => {
        const oldCan = await readableTables(client, data.oldUser);
        return oldCan.filter((t) => !tables.includes(t));
      });
      checks.push(
        check(
          'database-privileges-match',
          'privileges match the old role',
          lost.length === 0,
          lost.length === 0
            ? `${data.newUser} reads every table ${data.oldUser} can`
            : `${data.oldUser} can read ${lost.length} table(s) ${data.newUser} cannot: ${lost.slice(0, 10).join(', ')}`,
          'Objects owned by a login role instead of the owner: ALTER TABLE ... OWNER TO the owner role.',
        ),
      );
    }
    return checks;
  },

  async verifyCurrent(ctx) {
    appUrl(ctx);
    return (await currentChecks(ctx)).checks;
  },
};

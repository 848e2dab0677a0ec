import type { PostgresUrl } from '../../connection/postgres-url.js';
import { type Check, check } from '../../core-types.js';
import { RotateError } from '../../errors.js';
import type { Rotation } from '../types.js';
import { adminSession, endSessions } from './admin.js';
import { adminUrl, type Ctx, newPassword, postgresFacts, rotationData } from './credentials.js';
import { type Client, ident, literal, mayAlterRole, quietly, reason, withClient } from './db.js';
import { scramVerifier } from './scram.js';
import type { Strategy } from './strategy.js';

async function setPassword(client: Client, role: string, password: string): Promise<string> {
  const statement = `ALTER ROLE ${ident(role)} PASSWORD ${literal(scramVerifier(password))}`;
  await quietly(client, [statement]);
  const now = await client.query<{ t: string }>('SELECT statement_timestamp()::text AS t');
  return now.rows[0]!.t;
}

// Sessions of the role that began before the change (server time): the ones logged in with the old password.
const OLD_SESSIONS = 'usename = $1 AND backend_start < $2::timestamptz';

/** Sessions that started before this moment logged in with the old password: the apply's time, else generate's. */
function cutOf(rotation: Rotation): string {
  const facts = postgresFacts(rotation.facts);
  return String(facts.appliedAt ?? facts.generatedAt);
}

export const alterPassword: Strategy = {
  async preflight(ctx: Ctx, app: PostgresUrl) {
    const admin = adminUrl(ctx);
    const checks: Check[] = [];
    const facts = { strategy: 'alter-password', role: app.user, changedBy: admin ? admin.user : app.user };
    const target = admin ?? app;
    const name = admin ? `admin ${admin.user} may change the password of ${app.user}` : `${app.user} may change its own password`;
    try {
      const may = await withClient(target, (client) => mayAlterRole(client, app.user));
      checks.push(
        check('database-may-alter-role', name, may.ok, may.detail, 'Use an admin URL of a superuser or a CREATEROLE role (adminUrlEnv).'),
      );
    } catch (error) {
      checks.push(check('admin-connects', 'admin URL connects', false, reason(error), `Check the URL in ${ctx.config.adminUrlEnv}.`));
    }
    return { checks, facts };
  },

  async next(ctx: Ctx, app: PostgresUrl, restore?: Rotation) {
    if (!restore) return { user: app.user, password: newPassword(ctx), facts: { restored: false } };
    const previous = restore.secrets.oldPassword?.reveal();
    if (previous === undefined || postgresFacts(restore.facts).oldUser !== app.user) {
      throw new RotateError('POSTGRES_NOTHING_TO_RESTORE', 'the last rotation does not hold a password of this role', {
        hint: `Rollback needs the rotation that set the current password; run \`rotate history ${ctx.id}\`.`,
      });
    }
    return { user: app.user, password: previous, facts: { restored: true } };
  },

  async apply(ctx, rotation) {
    const data = rotationData(rotation);
    const client = await adminSession(ctx, data, 'old');
    try {
      // The later steps (an emergency retire ends the sessions older than it) learn when the old password stopped working.
      const appliedAt = await setPassword(client, data.newUser, data.newPassword);
      return { ...rotation, facts: { ...rotation.facts, appliedAt } };
    } finally {
      await client.end().catch(() => {});
    }
  },

  async undoApply(ctx, rotation) {
    const data = rotationData(rotation);
    const client = await adminSession(ctx, data, 'new');
    try {
      await setPassword(client, data.oldUser, data.oldPassword);
    } finally {
      await client.end().catch(() => {});
    }
  },

  async retire(ctx, rotation) {
    // ALTER ROLE replaced the password: the old one already fails for new logins. Emergency: end its sessions too.
    if (!ctx.emergency) return;
    const data = rotationData(rotation);
    const cut = cutOf(rotation);
    const client = await adminSession(ctx, data, 'new');
    try {
      const ended = await endSessions(client, OLD_SESSIONS, [data.oldUser, cut]);
      ctx.deps.log.info(`ended ${ended} session(s) of ${data.oldUser} opened with the old password`);
    } finally {
      await client.end().catch(() => {});
    }
  },

  retired: (ctx, rotation, data) => ({
    check: 'old password refused',
    stillWorks: `a new login as ${data.oldUser} with the old password still works`,
    hint: `Run \`rotate verify ${ctx.id}\`; the password change did not take.`,
    sessions: { where: OLD_SESSIONS, params: [data.oldUser, cutOf(rotation)], remain: 'session(s) from before the change remain' },
  }),
};

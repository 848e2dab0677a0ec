import type { PostgresUrl } from '../../connection/postgres-url.js';
import { type Check, check } from '../../core-types.js';
import { RotateError } from '../../errors.js';
import type { Rotation } from '../types.js';
import { adminSession, endSessions } from './admin.js';
import { adminUrl, type Ctx, newPassword, postgresFacts, type RotationData, rotationData } from './credentials.js';
import { type Client, ident, literal, mayAlterRole, quietly, reason, withClient } from './db.js';
import { type AlternateRoles, rolesOf } from './role-setup.js';
import { scramVerifier } from './scram.js';
import type { Strategy } from './strategy.js';

const setupHint = (id: string): string =>
  `Run \`rotate setup ${id}\` to print the one-time SQL, or \`rotate setup ${id} --apply\` to run it (see docs/secrets/database.md).`;

/** What is missing from the alternate-roles layout, as seen by any session (pg_roles is public). */
async function layoutProblems(client: Client, roles: AlternateRoles, appUser: string): Promise<string[]> {
  const result = await client.query<{ rolname: string; rolcanlogin: boolean; rolconfig: string[] | null; member: boolean }>(
    `SELECT r.rolname, r.rolcanlogin, r.rolconfig,
            EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles o ON o.oid = m.roleid
                     WHERE m.member = r.oid AND o.rolname = $1) AS member
       FROM pg_roles r WHERE r.rolname = ANY($2::text[])`,
    [roles.owner, [roles.owner, ...roles.logins]],
  );
  const byName = new Map(result.rows.map((row) => [row.rolname, row]));
  const problems: string[] = [];
  const owner = byName.get(roles.owner);
  if (!owner) problems.push(`owner role ${roles.owner} does not exist`);
  else if (owner.rolcanlogin && appUser !== roles.owner) problems.push(`owner role ${roles.owner} can still log in`);
  for (const login of roles.logins) {
    const row = byName.get(login);
    if (!row) {
      problems.push(`login role ${login} does not exist`);
      continue;
    }
    if (!row.rolcanlogin) problems.push(`${login} is NOLOGIN`);
    if (!row.member) problems.push(`${login} is not a member of ${roles.owner}`);
    const setsRole = (row.rolconfig ?? []).some((setting) => setting.replace(/"/g, '') === `role=${roles.owner}`);
    if (!setsRole) problems.push(`${login} does not act as ${roles.owner} (ALTER ROLE ... SET role)`);
  }
  if (![roles.owner, ...roles.logins].includes(appUser)) {
    problems.push(`the app's role ${appUser} is neither ${roles.owner} nor ${roles.logins.join(' nor ')}`);
  }
  return problems;
}

const notSetUp = (id: string, problems: string[]): RotateError =>
  new RotateError('POSTGRES_ROLES_NOT_SET_UP', `the alternate-roles layout is not in place: ${problems.join('; ')}`, {
    hint: setupHint(id),
  });

/** The login role the app does not use now. Before the first rotation the app uses the owner itself. */
export const idleRole = (roles: AlternateRoles, appUser: string): string =>
  appUser === roles.logins[0] ? roles.logins[1] : roles.logins[0];

const rolesFrom = (rotation: Rotation): AlternateRoles | undefined => {
  const { owner, logins } = postgresFacts(rotation.facts);
  return owner !== undefined && logins ? { owner, logins } : undefined;
};

/** Stops new logins of a role: the owner goes back to NOLOGIN, a login role expires now (its sessions go on). */
const expireStatement = (role: string, roles: AlternateRoles | undefined): string =>
  role === roles?.owner ? `ALTER ROLE ${ident(role)} NOLOGIN` : `ALTER ROLE ${ident(role)} VALID UNTIL 'now'`;

async function inAdminSession(ctx: Ctx, data: RotationData, prefer: 'old' | 'new', run: (c: Client) => Promise<void>) {
  const client = await adminSession(ctx, data, prefer);
  try {
    await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export const alternateRoles: Strategy = {
  async preflight(ctx: Ctx, app: PostgresUrl) {
    const roles = rolesOf(ctx, app.user);
    const idle = idleRole(roles, app.user);
    const facts = { strategy: 'alternate-roles', owner: roles.owner, activeRole: app.user, nextRole: idle };
    const checks: Check[] = [];
    const problems = await withClient(app, (client) => layoutProblems(client, roles, app.user));
    checks.push(
      check(
        'database-roles-layout',
        'alternate roles layout in place',
        problems.length === 0,
        problems.length === 0 ? `${roles.logins.join(' and ')} act as ${roles.owner}` : problems.join('; '),
        setupHint(ctx.id),
      ),
    );
    const admin = adminUrl(ctx);
    try {
      const may = await withClient(admin ?? app, async (client) => [
        await mayAlterRole(client, idle),
        await mayAlterRole(client, app.user),
      ]);
      const ok = may.every((m) => m.ok);
      checks.push(
        check(
          'database-may-alter-role',
          admin ? `admin ${admin.user} may change the login roles` : `${app.user} may change the login roles`,
          ok,
          may.find((m) => !m.ok)?.detail ?? may[0]!.detail,
          'alternate-roles changes other roles: set adminUrlEnv to a superuser or CREATEROLE connection.',
        ),
      );
    } catch (error) {
      checks.push(check('admin-connects', 'admin URL connects', false, reason(error), `Check the URL in ${ctx.config.adminUrlEnv}.`));
    }
    return { checks, facts };
  },

  async next(ctx: Ctx, app: PostgresUrl, restore?: Rotation) {
    const roles = rolesOf(ctx, app.user);
    const problems = await withClient(app, (client) => layoutProblems(client, roles, app.user));
    if (problems.length > 0) throw notSetUp(ctx.id, problems);
    const facts = { owner: roles.owner, logins: [...roles.logins] };
    if (!restore) return { user: idleRole(roles, app.user), password: newPassword(ctx), facts };
    const user = postgresFacts(restore.facts).oldUser;
    const password = restore.secrets.oldPassword?.reveal();
    if (user === undefined || user === app.user || password === undefined) {
      throw new RotateError('POSTGRES_NOTHING_TO_RESTORE', 'the last rotation does not name the role to go back to', {
        hint: `Rollback needs the rotation that moved the app to its current role; run \`rotate history ${ctx.id}\`.`,
      });
    }
    return { user, password, facts: { ...facts, restored: true } };
  },

  async apply(ctx, rotation) {
    const data = rotationData(rotation);
    const verifier = scramVerifier(data.newPassword);
    await inAdminSession(ctx, data, 'old', async (client) => {
      await quietly(client, [`ALTER ROLE ${ident(data.newUser)} WITH LOGIN PASSWORD ${literal(verifier)} VALID UNTIL 'infinity'`]);
    });
  },

  async undoApply(ctx, rotation) {
    const data = rotationData(rotation);
    await inAdminSession(ctx, data, 'old', async (client) => {
      await quietly(client, [expireStatement(data.newUser, rolesFrom(rotation))]);
    });
  },

  async retire(ctx, rotation) {
    const data = rotationData(rotation);
    await inAdminSession(ctx, data, 'new', async (client) => {
      await quietly(client, [expireStatement(data.oldUser, rolesFrom(rotation))]);
      if (ctx.emergency) {
        const ended = await endSessions(client, 'usename = $1', [data.oldUser]);
        ctx.deps.log.info(`ended ${ended} session(s) of ${data.oldUser}`);
      }
    });
  },

  retired: (ctx, _rotation, data) => ({
    check: 'old role refused',
    stillWorks: `a new login as ${data.oldUser} still works`,
    hint: `Run \`rotate verify ${ctx.id}\`; ${data.oldUser} should no longer accept logins.`,
    sessions: { where: 'usename = $1', params: [data.oldUser], remain: `session(s) of ${data.oldUser} remain` },
  }),
};

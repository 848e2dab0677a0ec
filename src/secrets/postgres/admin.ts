import type { PostgresUrl } from '../../connection/postgres-url.js';
import type { RotateError } from '../../errors.js';
import { adminUrl, type Ctx, type RotationData } from './credentials.js';
import { type Client, connect, connectError, isLoginRefused, isServerUnreachable } from './db.js';

/**
 * The session that changes roles: the admin URL when configured, else the app's own role, logging in with whichever
 * credentials the server takes now (after a crash or a partial apply the new ones may already work).
 */
export async function adminSession(ctx: Ctx, data: RotationData, prefer: 'old' | 'new'): Promise<Client> {
  const admin = adminUrl(ctx);
  if (admin) {
    try {
      return await connect(admin);
    } catch (error) {
      throw (
        unreachable(admin, error) ??
        connectError(
          'POSTGRES_ADMIN_CONNECT',
          `cannot connect with ${ctx.config.adminUrlEnv}`,
          error,
          `Check that ${ctx.config.adminUrlEnv} holds a working admin URL.`,
        )
      );
    }
  }
  const old = { user: data.oldUser, password: data.oldPassword };
  const next = { user: data.newUser, password: data.newPassword };
  let last: unknown;
  for (const { user, password } of prefer === 'old' ? [old, next] : [next, old]) {
    try {
      return await connect(data.oldUrl, user, password);
    } catch (error) {
      last = error;
      if (!isLoginRefused(error)) break;
    }
  }
  throw (
    unreachable(data.oldUrl, last) ??
    connectError(
      'POSTGRES_CONNECT',
      `cannot log in as ${data.oldUser} or ${data.newUser}`,
      last,
      'Set adminUrlEnv to an admin connection so that rotate can repair the roles, or repair them by hand.',
    )
  );
}

/**
 * A connection that never got an answer about its credentials (the server is down, unreachable or starting up) is
 * about the server: say so, instead of sending the operator to check URLs and credentials that are fine.
 */
function unreachable(url: PostgresUrl, error: unknown): RotateError | undefined {
  if (!isServerUnreachable(error)) return undefined;
  return connectError(
    'POSTGRES_UNREACHABLE',
    `the database server ${url.host || 'localhost'}:${url.port} did not accept a connection`,
    error,
    'Start PostgreSQL (or fix the network to it), then run the command again; an interrupted run waits for `rotate resume`.',
  );
}

/** Ends every session matching `where` (bound to $1, $2) except ours; returns how many it signalled. */
export async function endSessions(client: Client, where: string, params: unknown[]): Promise<number> {
  const result = await client.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND ${where}`,
    params,
  );
  return result.rowCount ?? 0;
}

/** Sessions matching `where` that are still there after up to ~5 s (termination is asynchronous). */
export async function sessionsLeft(ctx: Ctx, client: Client, where: string, params: unknown[]): Promise<number> {
  let left = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    const result = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND ${where}`,
      params,
    );
    left = Number(result.rows[0]?.n ?? 0);
    if (left === 0) return 0;
    await ctx.deps.sleep(250);
  }
  return left;
}

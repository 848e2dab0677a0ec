// Copies of the app's database password elsewhere in the env file: inside another URL for the same role
// (`DATABASE_URL_SYNC`), or whole (`POSTGRES_PASSWORD`, which the postgres container reads). A copy that rotate
// does not update keeps the dead password; one that is not listed in `alsoUpdate` stops the run before anything
// changes, naming it.
import { type PostgresUrl, parsePostgresUrl } from '../../connection/postgres-url.js';
import { type Check, check } from '../../core-types.js';
import type { Ctx } from './credentials.js';

/** How `raw` holds the credential of `user`/`password`: inside a postgres URL, whole, or not at all. */
export function copyOf(raw: string, user: string, password: string): 'url' | 'bare' | undefined {
  if (password === '') return undefined;
  if (raw === password) return 'bare';
  const url = parsePostgresUrl(raw);
  return url && url.user === user && url.password === password ? 'url' : undefined;
}

/** True when `raw` is not written as a URL at all (a bare password), so it is not a connection to test. */
export const isBareValue = (raw: string): boolean => !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw);

/** Keys other than the secret's own and its `alsoUpdate` that hold the app's current password. */
export function unlistedCopies(ctx: Ctx, app: PostgresUrl): string[] {
  const listed = new Set([ctx.config.env, ...ctx.config.alsoUpdate]);
  return Object.entries(ctx.env)
    .filter(([name, raw]) => !listed.has(name) && copyOf(raw, app.user, app.password ?? '') !== undefined)
    .map(([name]) => name);
}

/** A failing check (exit 2 in a real run, before anything changes) when an unlisted key holds the password. */
export function copiesCheck(ctx: Ctx, app: PostgresUrl): Check {
  const names = unlistedCopies(ctx, app);
  if (names.length === 0)
    return check('no-unlisted-copy', 'no unlisted copies', true, `no other key of ${ctx.location} holds ${app.user}'s password`);
  return {
    ...check(
      'no-unlisted-copy',
      'no unlisted copies',
      false,
      `${names.join(', ')} in ${ctx.location} ${names.length === 1 ? 'holds' : 'hold'} ${app.user}'s current password (in a URL or whole) and would keep the old one`,
      `Add ${names.join(', ')} to secrets.${ctx.id}.alsoUpdate (URLs are rewritten, bare copies replaced), or stop that key from holding the password.`,
    ),
    code: 'POSTGRES_COPY_NOT_LISTED',
  };
}

import { describe, expect, it } from 'vitest';
import { idleRole } from '../../src/secrets/postgres/alternate-roles.js';
import type { PostgresSecretConfig } from '../../src/secrets/postgres/kind.js';
import { roleSetupSql, rolesOf } from '../../src/secrets/postgres/role-setup.js';
import { testContext } from '../helpers/context.js';

const ctx = (roles?: unknown) =>
  testContext<PostgresSecretConfig>({ config: { kind: 'postgres', strategy: 'alternate-roles', ...(roles ? { roles } : {}) } });

describe('alternate roles', () => {
  it('derives the owner and the login pair from the role in use', () => {
    expect(rolesOf(ctx(), 'app')).toEqual({ owner: 'app', logins: ['app_blue', 'app_green'] });
    expect(rolesOf(ctx(), 'app_green')).toEqual({ owner: 'app', logins: ['app_blue', 'app_green'] });
    const configured = { owner: 'own', logins: ['one', 'two'] };
    expect(rolesOf(ctx(configured), 'two')).toEqual(configured);
  });

  it('picks the idle login role; the owner hands over to the first', () => {
    const roles = { owner: 'app', logins: ['app_blue', 'app_green'] as [string, string] };
    expect(idleRole(roles, 'app')).toBe('app_blue');
    expect(idleRole(roles, 'app_blue')).toBe('app_green');
    expect(idleRole(roles, 'app_green')).toBe('app_blue');
  });

  it('refuses a role name with a control character and keeps names out of the -- comments', () => {
    const hostile = 'b\nCREATE TABLE pwn();--';
    expect(() => roleSetupSql({ owner: hostile, logins: ['a', 'b'] }, 'database')).toThrow(
      expect.objectContaining({ code: 'POSTGRES_ROLE_NAME_INVALID', exitCode: 2 }),
    );
    expect(() => rolesOf(ctx({ owner: 'own', logins: ['one', 'tw\ro'] }), 'one')).toThrow(/control character/);
    const sql = roleSetupSql({ owner: 'x -- y', logins: ['p*/q', "r's"] }, 'database');
    for (const line of sql.split('\n').filter((l) => l.startsWith('--'))) {
      for (const name of ['x -- y', 'p*/q', "r's"]) expect(line).not.toContain(name);
    }
  });

  it('quotes odd role names and refuses a layout of fewer than three roles', () => {
    const sql = roleSetupSql({ owner: 'My App', logins: ["o'blue", 'x"y'] }, 'database');
    expect(sql).toContain(`GRANT "My App" TO "o'blue";`);
    expect(sql).toContain(`rolname = 'o''blue'`);
    expect(sql).toContain('CREATE ROLE "x""y" LOGIN INHERIT;');
    expect(() => roleSetupSql({ owner: 'a', logins: ['a', 'b'] }, 'database')).toThrow(/three different roles/);
  });

  it('names the secret it sets up in its hints, not a placeholder', () => {
    expect(() => roleSetupSql({ owner: 'a', logins: ['a', 'b'] }, 'orders_db')).toThrow(
      expect.objectContaining({ hint: 'Check secrets.orders_db.roles.' }),
    );
    expect(() => roleSetupSql({ owner: 'a$', logins: ['b', 'c'] }, 'orders_db')).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('secrets.orders_db.roles') }),
    );
    expect(() => roleSetupSql({ owner: 'a\nb', logins: ['b', 'c'] }, 'orders_db')).toThrow(
      /secrets\.orders_db\.roles or the URL of secret orders_db/,
    );
  });
});

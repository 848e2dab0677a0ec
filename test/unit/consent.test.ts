// The plan a person reads before saying yes (src/engine/consent.ts): each kind words its own cost in its kind.ts; the
// text is pinned here so that a kind's change shows up as a change of what people are asked.
import { describe, expect, it } from 'vitest';
import { consentPlan } from '../../src/engine/consent.js';
import { memoryRotator } from '../helpers/memory-rotator.js';
import { testSession } from '../helpers/session.js';

const config = {
  services: { app: { restart: 'restart-app' }, worker: { restart: 'restart-worker' } },
  secrets: {
    jwt: { kind: 'jwt', services: ['app'], graceHours: 24 },
    'jwt-now': { kind: 'jwt', env: 'JWT_NOW', services: ['app'] },
    'exchange-key': { kind: 'exchange-key', services: ['app', 'worker'] },
    database: { kind: 'postgres', services: ['app'] },
    'database-roles': {
      kind: 'postgres',
      env: 'OTHER_DATABASE_URL',
      strategy: 'alternate-roles',
      roles: { owner: 'app', logins: ['app_a', 'app_b'] },
      services: ['app'],
    },
    redis: { kind: 'redis', strategy: 'requirepass', services: [] },
    'redis-acl': { kind: 'redis', env: 'OTHER_REDIS_URL', strategy: 'acl', services: ['worker'] },
    stripe: { kind: 'stripe', services: ['app'], webhook: { url: 'https://app.example.com/hook' } },
    token: { kind: 'random', env: 'API_TOKEN', services: ['app'] },
  },
};

describe('the plan before consent', () => {
  it("says each kind's cost in its own words, then what restarts", () => {
    const session = testSession({ rotator: memoryRotator('a', 'b'), config });
    expect(consentPlan(session, Object.keys(config.secrets))).toEqual([
      `in ${session.envFile}:`,
      '  jwt (jwt): writes JWT_SECRET, JWT_SECRET_PREVIOUS',
      '    tokens signed with the old secret stay valid for 24 hours (grace): nobody is logged out',
      '  jwt-now (jwt): writes JWT_NOW',
      '    every signed-in user is logged out: tokens signed with the old secret are refused once the new one is verified (no grace period)',
      '  exchange-key (exchange-key): writes EXCHANGE_KEY_ENCRYPTION_KEY, EXCHANGE_KEY_ENCRYPTION_KEY_NEXT, EXCHANGE_KEY_ENCRYPTION_KEY_PREVIOUS',
      '    every encrypted value in exchange_api_keys is re-encrypted (batches of 2000, each committed)',
      '    a process that reads only EXCHANGE_KEY_ENCRYPTION_KEY cannot read the re-encrypted rows until app, worker restart (the app given both keys reads either)',
      '  database (postgres): writes DATABASE_URL',
      '    new database logins with the old password are refused from the password change until app restart; open connections stay',
      '  database-roles (postgres): writes OTHER_DATABASE_URL',
      '    the app moves to the idle login role; the old role keeps working until it is retired: no login is refused',
      '  redis (redis): writes REDIS_URL',
      '    new Redis connections with the old password are refused from the change until the processes that read it restart; open connections stay',
      '  redis-acl (redis): writes OTHER_REDIS_URL',
      '    old and new Redis passwords both work until the new one is verified: no login is refused',
      '  stripe (stripe): writes STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET',
      '    a new secret key, rolled in the Stripe Dashboard, is handed in first (the old one stays valid until the expiry chosen there)',
      '    the webhook endpoint is replaced by a copy with a new signing secret',
      '  token (random): writes API_TOKEN',
      '  restarts app, worker, then verifies and retires the old values',
    ]);
  });

  it('with --no-restart names no cost and no restart', () => {
    const session = testSession({ rotator: memoryRotator('a', 'b'), config, run: { restart: false } });
    expect(consentPlan(session, ['jwt', 'database'])).toEqual([
      `in ${session.envFile}:`,
      '  jwt (jwt): writes JWT_SECRET, JWT_SECRET_PREVIOUS',
      '  database (postgres): writes DATABASE_URL',
      '  --no-restart: no service restarts and the old values stay valid',
    ]);
  });
});

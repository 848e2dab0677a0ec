// Each kind says what its facts mean (src/secrets/<kind>/facts.ts): the facts below are shaped as each rotator's
// preflight and generation record them. A person reads sentences, never `key: value` or a field name.
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/core-types.js';
import type { FactsMoment } from '../../src/secrets/facts.js';
import { factSentences } from '../../src/secrets/index.js';

type Case = [kind: string, moment: FactsMoment, facts: Record<string, JsonValue>, expected: string[]];

const CASES: Case[] = [
  [
    'dotenvx',
    'plan',
    { file: '/app/.env', keysFile: '/app/.env.keys', values: 3 },
    [
      '3 encrypted values of /app/.env encrypted again to a new keypair; its private key goes to /app/.env.keys first, the old one leaves it last',
    ],
  ],
  ['dotenvx', 'done', { oldPublicKey: '02aaaaaaaaaaaaaa', newPublicKey: '03bbbbbbbbbbbbbb' }, ['new public key 03bbbbbbbb…']],
  [
    'dotenvx',
    'done',
    { oldPublicKey: '03bbbbbbbbbbbbbb', newPublicKey: '02aaaaaaaaaaaaaa', restored: true },
    ['the previous keypair is put back (public key 02aaaaaaaa…)'],
  ],
  [
    'jwt',
    'plan',
    { graceHours: 0, verifyUrl: 'http://127.0.0.1:8000/api/auth/me' },
    [
      'no grace period: tokens signed with the old secret are refused as soon as the new one is verified',
      'the app is asked to accept a token at http://127.0.0.1:8000/api/auth/me',
    ],
  ],
  [
    'jwt',
    'plan',
    { graceHours: 24, verifyUrl: null },
    [
      'grace period of 24 hours: tokens signed with the old secret stay valid that long after the new one is verified',
      'no verify.url: only the env file is checked, not the app',
    ],
  ],
  [
    'jwt',
    'done',
    { characters: 43, randomBytes: 32, grace: false },
    ['new secret: 43 characters (32 random bytes)', 'the old secret is retired now; no grace period'],
  ],
  [
    'jwt',
    'done',
    { characters: 43, randomBytes: 32, grace: true },
    [
      'new secret: 43 characters (32 random bytes)',
      'the old secret stays valid until the grace period ends; `rotate --due` then retires it',
    ],
  ],
  ['jwt', 'written', { characters: 43, randomBytes: 32, grace: false }, ['new secret: 43 characters (32 random bytes)']],
  [
    'jwt',
    'done',
    { characters: 43, restored: true, grace: false },
    ['the previous secret is put back (43 characters)', 'the secret it replaced is retired now; no grace period'],
  ],
  // A record written before `characters`: the same length was called `bytes`.
  ['jwt', 'done', { bytes: 43, grace: false }, ['new secret: 43 characters', 'the old secret is retired now; no grace period']],
  [
    'random',
    'plan',
    { verifyUrl: 'http://127.0.0.1:8000/api/health' },
    ['http://127.0.0.1:8000/api/health must answer 2xx after the restart'],
  ],
  ['random', 'plan', { verifyUrl: null }, ["no verify.url: only the env file and the services' health are checked"]],
  ['random', 'done', { characters: 43, alphabet: 'base64url' }, ['new value: 43 characters of base64url']],
  ['random', 'done', { characters: 64, alphabet: 'hex', restored: true }, ['the previous value is put back (64 characters)']],
  [
    'exchange-key',
    'plan',
    { rowsByTable: { exchange_api_keys: 40 }, rows: 40, values: 120, undecryptable: 0, estimatedSeconds: 3 },
    [
      '40 rows (120 encrypted values) in exchange_api_keys (40) to re-encrypt under the new key',
      'estimated time to re-encrypt: about 3 seconds (from the time the dry run took to test-decrypt)',
    ],
  ],
  [
    'exchange-key',
    'plan',
    { rowsByTable: { a: 1 }, rows: 1, values: 2, undecryptable: 2, estimatedSeconds: 600 },
    [
      '1 row (2 encrypted values) in a (1) to re-encrypt under the new key',
      '2 values do not decrypt under the current key',
      'estimated time to re-encrypt: about 10 minutes (from the time the dry run took to test-decrypt)',
    ],
  ],
  [
    'exchange-key',
    'done',
    { rowsByTable: { exchange_api_keys: 40, audit: 2 }, rows: 42 },
    ['re-encrypted 42 rows in exchange_api_keys (40), audit (2) under the new key'],
  ],
  [
    'postgres',
    'plan',
    {
      role: 'app',
      target: 'app@127.0.0.1:5432/app',
      strategy: 'alter-password',
      readableTables: 3,
      tableOwners: { app: 3 },
      changedBy: 'postgres',
    },
    [
      'the app connects as role app to 127.0.0.1:5432/app',
      "strategy alter-password: the role's password changes in place, set by postgres",
      'the role can read 3 tables; the new credentials must read as many',
      "the app's tables are owned by app (3)",
    ],
  ],
  [
    'postgres',
    'plan',
    {
      role: 'app_blue',
      target: 'app_blue@db:5432/app',
      strategy: 'alternate-roles',
      owner: 'app',
      activeRole: 'app_blue',
      nextRole: 'app_green',
    },
    ['the app connects as role app_blue to db:5432/app', 'strategy alternate-roles: the app moves from role app_blue to app_green'],
  ],
  [
    'postgres',
    'done',
    {
      strategy: 'alter-password',
      oldUser: 'app',
      newUser: 'app',
      alsoUpdated: ['DATABASE_URL_SYNC', 'POSTGRES_PASSWORD'],
      restored: false,
      readableTables: 3,
      tables: ['a', 'b', 'c'],
      generatedAt: '2026-12-02 01:00:00+00',
      appliedAt: '2026-12-02 01:00:01+00',
    },
    ['role app gets a new password', 'DATABASE_URL_SYNC and POSTGRES_PASSWORD hold the new credentials too'],
  ],
  [
    'postgres',
    'done',
    {
      strategy: 'alternate-roles',
      oldUser: 'app_blue',
      newUser: 'app_green',
      alsoUpdated: [],
      owner: 'app',
      logins: ['app_blue', 'app_green'],
      readableTables: 3,
      generatedAt: 'x',
    },
    ['moved from role app_blue to app_green with a new password'],
  ],
  [
    'postgres',
    'done',
    { strategy: 'alter-password', oldUser: 'app', newUser: 'app', alsoUpdated: ['X'], restored: true },
    ['role app gets its previous password back', 'X holds the new credentials too'],
  ],
  [
    'redis',
    'plan',
    {
      strategy: 'acl',
      user: 'app',
      target: 'user app at 127.0.0.1:6379 db 0',
      keysBefore: 5,
      updatedVars: ['REDIS_URL', 'CELERY_BROKER_URL'],
      skippedVars: ['CELERY_RESULT_BACKEND: another user'],
      adminVia: 'admin-url',
      passwordsBefore: 1,
      persistence: 'aclfile',
    },
    [
      'the app authenticates as user app at 127.0.0.1:6379 db 0',
      'strategy acl: the user gets a second password; the old one is removed once the new one is verified',
      'the password is changed through the admin URL',
      'user app has 1 password now',
      'the user sees 5 keys now; the new password must see as many',
      'REDIS_URL and CELERY_BROKER_URL get the new password',
      'CELERY_RESULT_BACKEND is left as it is (another user)',
      'the new password is saved to the ACL file (ACL SAVE), so a Redis restart keeps it',
    ],
  ],
  [
    'redis',
    'done',
    {
      user: 'default',
      strategy: 'requirepass',
      target: 'user default at r:6379 db 0',
      updatedVars: ['REDIS_URL'],
      keysBefore: 1,
      persistence: 'none',
      restoring: true,
    },
    [
      'the app authenticates as user default at r:6379 db 0',
      'the previous password is put back',
      'REDIS_URL got the new password',
      'the server has neither a config file nor an ACL file: a Redis restart would bring the old password back',
    ],
  ],
  [
    'redis',
    'plan',
    { strategy: 'requirepass', user: 'default', persistence: 'config-file', adminVia: 'app-url' },
    [
      'the app authenticates as user default',
      "strategy requirepass: the server's one password changes",
      "the app's own user changes its password (no admin URL)",
      "the new password is saved to the server's config file (CONFIG REWRITE), so a Redis restart keeps it",
    ],
  ],
  [
    'stripe',
    'plan',
    {
      mode: 'live',
      keyType: 'standard',
      accountId: 'acct_A',
      webhookEndpoint: {
        endpointId: 'we_1',
        url: 'https://app.example.com/hook',
        status: 'enabled',
        enabledEvents: 12,
        apiVersion: '2024-06-20',
        connect: false,
      },
    },
    [
      'the current standard (sk_) live-mode secret key of Stripe account acct_A',
      'webhook endpoint we_1 at https://app.example.com/hook (enabled, 12 events, API version 2024-06-20): a rotation replaces it by a copy with a new signing secret',
    ],
  ],
  [
    'stripe',
    'plan',
    { mode: 'test', keyType: 'standard', newKeyFrom: 'operator' },
    [
      'first, a new secret key rolled in the Stripe Dashboard must be handed in (ROTATE_NEW_STRIPE_SECRET_KEY, a line on stdin, or a hidden prompt at a terminal): the run asks for it before any change',
      'the current standard (sk_) test-mode secret key',
    ],
  ],
  [
    'stripe',
    'plan',
    { mode: 'test', keyType: 'standard', newKeyFrom: 'ROTATE_NEW_STRIPE_SECRET_KEY' },
    [
      'the new secret key, rolled in the Stripe Dashboard, is taken from ROTATE_NEW_STRIPE_SECRET_KEY before any change',
      'the current standard (sk_) test-mode secret key',
    ],
  ],
  [
    'stripe',
    'done',
    {
      accountId: 'acct_A',
      accountMatchedAgainst: 'current key',
      mode: 'test',
      keyType: 'restricted',
      publishableKeyChanged: true,
      rollback: false,
      webhook: true,
      runId: 'r1',
      oldEndpointId: 'we_1',
      webhookUrl: 'https://app.example.com/hook',
      enabledEvents: 3,
      apiVersion: null,
      newEndpointId: 'we_2',
      endpointId: 'we_2',
    },
    [
      'the new restricted (rk_) test-mode secret key of Stripe account acct_A (the account checked against the current key)',
      'the publishable key changes with it',
      'webhook endpoint we_1 at https://app.example.com/hook (3 events) was replaced by we_2, a copy with a new signing secret',
    ],
  ],
  [
    'stripe',
    'written',
    {
      accountId: 'acct_A',
      accountMatchedAgainst: 'last rotation',
      mode: 'live',
      keyType: 'standard',
      publishableKeyChanged: false,
      rollback: true,
      webhook: true,
      oldEndpointId: 'we_1',
      newEndpointId: 'we_2',
    },
    [
      'the new standard (sk_) live-mode secret key of Stripe account acct_A (the account checked against the last rotation)',
      'back to the previous secret key',
      'the publishable key stays as it is',
      'webhook endpoint we_2 was created beside we_1, which still exists: --no-restart deletes nothing',
    ],
  ],
  [
    'stripe',
    'done',
    { accountId: 'acct_A', mode: 'live', keyType: 'standard', publishableKeyChanged: false, rollback: false, webhook: false },
    [
      'the new standard (sk_) live-mode secret key of Stripe account acct_A',
      'the publishable key stays as it is',
      'no webhook endpoint is configured: only the API keys change',
    ],
  ],
];

describe('fact sentences, kind by kind', () => {
  it.each(CASES)('%s (%s): %j', (kind, moment, facts, expected) => {
    const sentences = factSentences(kind, facts, moment);
    expect(sentences).toEqual(expected);
    for (const sentence of sentences) {
      // No `key: value`, no field names (camelCase), no `a=b` dumps.
      expect(sentence).not.toMatch(/^\w+: /);
      expect(sentence).not.toMatch(/\b[a-z]+[A-Z]\w*\b/);
      expect(sentence).not.toContain('=');
    }
  });

  it('a kind rotate does not know has no sentences (a record from another version)', () => {
    expect(factSentences('vault', { anything: 1 }, 'done')).toEqual([]);
  });
});

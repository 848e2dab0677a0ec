// The plan before consent counts what an exchange-key rotation re-encrypts (#25 item 4): the rows of each configured
// table, from the planner's estimate or a count, and a time estimated from them; never a value, never a pass over the
// data. Against the shared PostgreSQL, in a scratch database of this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentCounts, consentPlan } from '../../src/engine/consent.js';
import { exchangeKeyRotator } from '../../src/secrets/exchange-key/index.js';
import { findLeaks } from '../helpers/cli.js';
import { scratchDatabase } from '../helpers/scratch-database.js';
import { testSession } from '../helpers/session.js';

const database = scratchDatabase('rotate_xk_consent');
const KEY = 'default-encryption-key-change-in-production-32-chars!';

beforeAll(async () => {
  const db = await database.create();
  await db.query('CREATE TABLE exchange_api_keys (id serial PRIMARY KEY, api_key_encrypted text NOT NULL)');
  await db.query('CREATE TABLE wallets (id serial PRIMARY KEY, seed_encrypted text NOT NULL)');
  await db.query(`INSERT INTO exchange_api_keys (api_key_encrypted) SELECT 'token-' || g FROM generate_series(1, 12000) g`);
  await db.query(`INSERT INTO wallets (seed_encrypted) VALUES ('a'), ('b'), ('c')`);
  await db.query('ANALYZE exchange_api_keys');
});

afterAll(() => database.drop());

const config = {
  services: { backend: { restart: 'restart-backend' } },
  secrets: {
    'exchange-key': {
      kind: 'exchange-key',
      services: ['backend'],
      tables: [
        { table: 'exchange_api_keys', columns: ['api_key_encrypted'] },
        { table: 'wallets', columns: ['seed_encrypted'] },
      ],
    },
  },
};

describe('the plan before consent, exchange-key', () => {
  it('says how many rows of each table are re-encrypted and an estimated time', async () => {
    const session = testSession({
      rotator: exchangeKeyRotator,
      config,
      envText: `EXCHANGE_KEY_ENCRYPTION_KEY=${KEY}\nDATABASE_URL=${database.url}\n`,
    });
    const plan = consentPlan(session, ['exchange-key'], await consentCounts(session, ['exchange-key']));
    expect(plan).toContain(
      '    about 12,003 rows to re-encrypt (exchange_api_keys: 12,000, wallets: 3); estimated 3 seconds at about 5,000 rows/s, during which the moved rows need the new key',
    );
    // The counts sit with their secret, after its costs and before the restarts.
    expect(plan.findIndex((l) => l.includes('rows to re-encrypt'))).toBeLessThan(plan.findIndex((l) => l.startsWith('  restarts')));
    expect(findLeaks({ plan: plan.join('\n') }, [KEY])).toEqual([]);
  });

  it('a database it cannot reach is said, not a reason to stop before asking (the preflight stops the run)', async () => {
    const password = 'pw-that-must-not-show-7f3a';
    const session = testSession({
      rotator: exchangeKeyRotator,
      config,
      envText: `EXCHANGE_KEY_ENCRYPTION_KEY=${KEY}\nDATABASE_URL=postgresql://app:${password}@127.0.0.1:1/nothing\n`,
    });
    const counts = await consentCounts(session, ['exchange-key']);
    expect(counts.get('exchange-key')![0]).toMatch(/^not counted before asking: cannot connect to the database in DATABASE_URL/);
    expect(findLeaks({ counts: JSON.stringify([...counts]) }, [KEY, password])).toEqual([]);
  });
});

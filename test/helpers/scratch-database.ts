// A database of its own on the machine's shared PostgreSQL (trust auth) for one test file: created in beforeAll,
// dropped in afterAll. Without PostgreSQL, create() throws and the file fails loudly.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const SHARED = 'postgresql://postgres@127.0.0.1:5432/test';

async function onShared(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: SHARED });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

export interface ScratchDatabase {
  name: string;
  /** In the platform's form, as an env file holds it. */
  url: string;
  /** Creates it and returns a connected client (closed by drop). */
  create(): Promise<pg.Client>;
  drop(): Promise<void>;
}

export function scratchDatabase(prefix: string): ScratchDatabase {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  let client: pg.Client | undefined;
  return {
    name,
    url: `postgresql+asyncpg://postgres@127.0.0.1:5432/${name}`,
    async create() {
      await onShared(`CREATE DATABASE ${name}`);
      client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:5432/${name}` });
      await client.connect();
      return client;
    },
    async drop() {
      await client?.end();
      await onShared(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

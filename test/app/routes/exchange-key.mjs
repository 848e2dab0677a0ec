// Exchange API keys like the platform: Fernet under a key derived from EXCHANGE_KEY_ENCRYPTION_KEY (read once at
// start), rows in exchange_api_keys. Its own small Fernet, independent of rotate's, so the two check each other.
//   GET  /api/exchange-keys/check  decrypts every row: 200 {rows, values}, or 500 naming the ids that fail
//   POST /api/exchange-keys        {api_key, api_secret, passphrase?} -> 201 {id}, encrypted with the key it read
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

const COLUMNS = ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'];

function fernetKey(envValue) {
  const raw = pbkdf2Sync(Buffer.from(envValue, 'utf8'), Buffer.from('crypto_orchestrator_salt'), 100_000, 32, 'sha256');
  return { sign: raw.subarray(0, 16), enc: raw.subarray(16, 32) };
}

function encrypt(key, text) {
  // An empty plaintext is stored as "" (not encrypted), as the platform does.
  if (text === '') return '';
  const iv = randomBytes(16);
  const c = createCipheriv('aes-128-cbc', key.enc, iv);
  const head = Buffer.alloc(9);
  head[0] = 0x80;
  head.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)), 1);
  const data = Buffer.concat([head, iv, c.update(text, 'utf8'), c.final()]);
  const out = Buffer.concat([data, createHmac('sha256', key.sign).update(data).digest()]).toString('base64url');
  return out + '='.repeat((4 - (out.length % 4)) % 4);
}

function decrypts(key, token) {
  const data = Buffer.from(token, 'base64url');
  if (data.length < 73 || data[0] !== 0x80) return false;
  const mac = createHmac('sha256', key.sign).update(data.subarray(0, -32)).digest();
  if (!timingSafeEqual(mac, data.subarray(-32))) return false;
  try {
    const d = createDecipheriv('aes-128-cbc', key.enc, data.subarray(9, 25));
    Buffer.concat([d.update(data.subarray(25, -32)), d.final()]);
    return true;
  } catch {
    return false;
  }
}

export async function setup(env) {
  if (!env.EXCHANGE_KEY_ENCRYPTION_KEY || !env.DATABASE_URL) return { routes: {} };
  const { default: pg } = await import('pg');
  const key = fernetKey(env.EXCHANGE_KEY_ENCRYPTION_KEY);
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL.replace(/^(postgres(?:ql)?)\+[A-Za-z0-9_]+:/i, '$1:'), max: 2 });
  pool.on('error', () => {});
  return {
    routes: {
      'GET /api/exchange-keys/check': async () => {
        const { rows } = await pool.query(`SELECT id, ${COLUMNS.join(', ')} FROM exchange_api_keys ORDER BY id`);
        const failing = [];
        let values = 0;
        for (const row of rows) {
          for (const column of COLUMNS) {
            const value = row[column];
            if (value === null || value === '') continue;
            values++;
            if (!decrypts(key, value)) failing.push(row.id);
          }
        }
        if (failing.length > 0) return { status: 500, body: { detail: 'cannot decrypt exchange keys', failing: [...new Set(failing)] } };
        return { status: 200, body: { rows: rows.length, values } };
      },
      'POST /api/exchange-keys': async ({ raw }) => {
        const body = JSON.parse(raw.toString('utf8') || '{}');
        const { rows } = await pool.query(`INSERT INTO exchange_api_keys (${COLUMNS.join(', ')}) VALUES ($1, $2, $3) RETURNING id`, [
          encrypt(key, body.api_key ?? ''),
          encrypt(key, body.api_secret ?? ''),
          body.passphrase == null ? null : encrypt(key, body.passphrase),
        ]);
        return { status: 201, body: { id: rows[0].id } };
      },
    },
    close: () => pool.end(),
  };
}

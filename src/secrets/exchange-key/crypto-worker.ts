import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

/**
 * Re-encryption is CPU-bound (HMAC + AES per value, twice), so it runs on worker threads, one per core. The worker
 * is plain JavaScript evaluated from this string so that it runs the same from `src/` (vitest) and `dist/`; it is
 * a second copy of fernet.ts, and test/unit/fernet.test.ts holds both to the same vectors and to Python.
 *
 * Job: `{ id, values, now }`. For each value the worker finds the first key (in `keys` order) that decrypts it and,
 * when `target >= 0` and that key is not the target, re-encrypts the plaintext under `keys[target]`.
 * Reply: `{ id, found: Int8Array (key index, -1 = none), out: (string | null)[] (new token or null) }`.
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');

// Per-call object creation dominates Fernet on short values, so the worker works a batch at a time: HMAC as two
// one-shot SHA-256 hashes (RFC 2104), and AES-128-CBC as batched ECB calls with the CBC chaining done here.
function prepareKey(raw) {
  const inner = Buffer.alloc(64 + 4096, 0x36);
  const outer = Buffer.alloc(96, 0x5c);
  for (let i = 0; i < 16; i++) {
    inner[i] ^= raw[i];
    outer[i] ^= raw[i];
  }
  return { inner, outer, enc: Buffer.from(raw.subarray(16, 32)) };
}
const keys = workerData.keys.map(prepareKey);
const target = workerData.target;

// HMAC-SHA256 = H(opad-key | H(ipad-key | message)), with the padded keys kept in place in reusable buffers.
function hmac(key, message) {
  if (64 + message.length > key.inner.length) {
    const grown = Buffer.alloc(64 + 2 * message.length);
    key.inner.copy(grown, 0, 0, 64);
    key.inner = grown;
  }
  key.inner.set(message, 64);
  key.outer.set(crypto.hash('sha256', key.inner.subarray(0, 64 + message.length), 'buffer'), 64);
  return crypto.hash('sha256', key.outer, 'buffer');
}

const CLEAN = /^[A-Za-z0-9_-]+={0,2}$/;
// base64.urlsafe_b64decode as Python does it: skip stray characters, stop at the padding, require the padding.
function decode(text) {
  if (CLEAN.test(text) && text.length % 4 === 0) return Buffer.from(text, 'base64url');
  const clean = text.replace(/[^A-Za-z0-9_\-+/=]/g, '');
  const pad = clean.indexOf('=');
  const data = pad === -1 ? clean : clean.slice(0, pad);
  const rest = data.length % 4;
  if (rest === 1) return undefined;
  if (rest !== 0 && !clean.startsWith('='.repeat(4 - rest), pad === -1 ? clean.length : pad)) return undefined;
  return Buffer.from(data.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function ecb(key, decrypt, blocks) {
  const c = decrypt ? crypto.createDecipheriv('aes-128-ecb', key.enc, null) : crypto.createCipheriv('aes-128-ecb', key.enc, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(blocks), c.final()]);
}

/** Plaintexts (or undefined) of decoded tokens under one key. */
function decryptAll(key, datas) {
  const ok = [];
  for (let i = 0; i < datas.length; i++) {
    const d = datas[i];
    if (d === undefined || d.length < 73 || d[0] !== 0x80 || (d.length - 57) % 16 !== 0) continue;
    if (crypto.timingSafeEqual(hmac(key, d.subarray(0, d.length - 32)), d.subarray(d.length - 32))) ok.push(i);
  }
  const out = new Array(datas.length);
  if (ok.length === 0) return out;
  const plain = ecb(key, true, Buffer.concat(ok.map((i) => datas[i].subarray(25, datas[i].length - 32))));
  let at = 0;
  for (const i of ok) {
    const d = datas[i];
    const n = d.length - 57;
    // CBC: P_j = D(C_j) xor C_(j-1), with C_(-1) = IV; IV | C sits contiguous in the token.
    for (let j = 0; j < n; j++) plain[at + j] ^= d[9 + j];
    const padLen = plain[at + n - 1];
    let good = padLen >= 1 && padLen <= 16;
    for (let j = 1; good && j <= padLen; j++) good = plain[at + n - j] === padLen;
    if (good) out[i] = plain.subarray(at, at + n - padLen);
    at += n;
  }
  return out;
}

function b64(bytes) {
  const text = bytes.toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}

/**
 * Fernet tokens of the plaintexts under one key. All tokens are laid out in one buffer (header | IV | padded
 * plaintext | MAC each); CBC runs in place, one ECB call per block position across all tokens.
 */
function encryptAll(key, plains, now) {
  const count = plains.length;
  const starts = new Array(count);
  const sizes = new Array(count);
  let length = 0;
  let rounds = 0;
  for (let i = 0; i < count; i++) {
    const blocks = Math.floor(plains[i].length / 16) + 1;
    rounds = Math.max(rounds, blocks);
    starts[i] = length;
    sizes[i] = 57 + 16 * blocks;
    length += sizes[i];
  }
  const out = Buffer.allocUnsafe(length);
  const ivs = crypto.randomBytes(16 * count);
  const stamp = BigInt(now);
  for (let i = 0; i < count; i++) {
    const o = starts[i];
    const p = plains[i];
    out[o] = 0x80;
    out.writeBigUInt64BE(stamp, o + 1);
    ivs.copy(out, o + 9, 16 * i, 16 * i + 16);
    p.copy(out, o + 25);
    const padLen = sizes[i] - 57 - p.length;
    out.fill(padLen, o + 25 + p.length, o + sizes[i] - 32);
  }
  const x = Buffer.allocUnsafe(16 * count);
  const who = new Int32Array(count);
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    for (let i = 0; i < count; i++) {
      if (sizes[i] - 57 <= 16 * r) continue;
      const at = starts[i] + 25 + 16 * r;
      for (let j = 0; j < 16; j++) x[16 * n + j] = out[at + j] ^ out[at - 16 + j];
      who[n++] = at;
    }
    const y = ecb(key, false, x.subarray(0, 16 * n));
    for (let w = 0; w < n; w++) y.copy(out, who[w], 16 * w, 16 * w + 16);
  }
  const tokens = new Array(count);
  for (let i = 0; i < count; i++) {
    const end = starts[i] + sizes[i];
    hmac(key, out.subarray(starts[i], end - 32)).copy(out, end - 32);
    tokens[i] = b64(out.subarray(starts[i], end));
  }
  return tokens;
}

function processValues(values, now) {
  const found = new Int8Array(values.length).fill(-1);
  const out = new Array(values.length).fill(null);
  const datas = values.map(decode);
  const plains = new Array(values.length);
  let left = datas.map((_, i) => i);
  for (let k = 0; k < keys.length && left.length > 0; k++) {
    const got = decryptAll(keys[k], left.map((i) => datas[i]));
    const still = [];
    left.forEach((i, j) => {
      if (got[j] === undefined) still.push(i);
      else {
        found[i] = k;
        plains[i] = got[j];
      }
    });
    left = still;
  }
  if (target >= 0) {
    const redo = [];
    for (let i = 0; i < values.length; i++) if (found[i] >= 0 && found[i] !== target) redo.push(i);
    encryptAll(keys[target], redo.map((i) => plains[i]), now).forEach((token, j) => (out[redo[j]] = token));
  }
  return { found, out };
}

const quote = (text) => '"' + text.replace(/[\\"]/g, '\\$&') + '"';

/**
 * Rows [key, xmin, col...] -> counts, the first failures, and the UPDATE's array parameters as PostgreSQL array
 * literals (without braces) for the rows that changed. Tokens are base64url and need no quoting; NULL = unchanged.
 */
function processRows(rows, width, now) {
  const values = [];
  const slots = [];
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < width; c++) {
      const value = rows[r][2 + c];
      if (typeof value === 'string' && value !== '') {
        values.push(value);
        slots.push(r * width + c);
      }
    }
  }
  const { found, out } = processValues(values, now);
  const byKey = keys.map(() => 0);
  const failures = [];
  let failed = 0;
  const changed = new Map();
  for (let i = 0; i < values.length; i++) {
    const row = Math.floor(slots[i] / width);
    const column = slots[i] % width;
    if (found[i] >= 0) byKey[found[i]]++;
    else if (failed++ < 50) failures.push({ column, id: String(rows[row][0]) });
    if (out[i] !== null) {
      if (!changed.has(row)) changed.set(row, new Array(width).fill('NULL'));
      changed.get(row)[column] = out[i];
    }
  }
  const ids = [];
  const xmins = [];
  const columns = Array.from({ length: width }, () => []);
  for (const [row, tokens] of changed) {
    ids.push(quote(String(rows[row][0])));
    xmins.push(String(rows[row][1]));
    tokens.forEach((token, c) => columns[c].push(token));
  }
  return {
    rows: rows.length,
    values: values.length,
    byKey,
    failed,
    failures,
    changed: ids.length,
    ids: ids.join(','),
    xmins: xmins.join(','),
    columns: columns.map((list) => list.join(',')),
  };
}

parentPort.on('message', (job) => {
  const result = job.rows ? processRows(job.rows, job.width, job.now) : processValues(job.values, job.now);
  parentPort.postMessage({ id: job.id, result });
});
`;

/**
 * A worker holds about three batches; left to V8's defaults its heaps grow to ~50 MB each under this churn. These
 * limits keep the whole process under the 256 MB target at any table size, at no measurable cost in speed.
 */
const LIMITS = { maxYoungGenerationSizeMb: 12, maxOldGenerationSizeMb: 96 };

export interface CryptoResult {
  /** Per value: the index of the key that decrypted it, or -1. */
  found: Int8Array;
  /** Per value: the token re-encrypted under the target key, or null (not needed, or not decryptable). */
  out: (string | null)[];
}

/** A batch of rows worked through: counts, and the UPDATE's array parameters for the rows that changed. */
export interface RowsResult {
  rows: number;
  values: number;
  byKey: number[];
  failed: number;
  failures: { column: number; id: string }[];
  changed: number;
  /** PostgreSQL array literals, ready as parameters: keys, xmins, and one per column (NULL = unchanged). */
  ids: string;
  xmins: string;
  columns: string[];
}

type Pending = { resolve(result: never): void; reject(error: unknown): void };

/** A pool of Fernet workers holding `keys` (raw 32-byte keys, in the order to try them). */
export class CryptoPool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<number, Pending>();
  #next = 0;
  #turn = 0;

  /** `target`: index into `keys` to re-encrypt under, or -1 to only test-decrypt. */
  constructor(keys: Buffer[], target: number, size = defaultPoolSize()) {
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { keys: keys.map((k) => new Uint8Array(k)), target },
        resourceLimits: LIMITS,
      });
      worker.on('message', (reply: { id: number; result: never }) => {
        const job = this.#waiting.get(reply.id);
        this.#waiting.delete(reply.id);
        job?.resolve(reply.result);
      });
      worker.on('error', (error) => this.#failAll(error));
      return worker;
    });
  }

  /** Values in, per-value results out (in order). */
  async run(values: string[], now: number): Promise<CryptoResult> {
    const results = await Promise.all(this.#chunks(values).map((part) => this.#send<CryptoResult>({ values: part, now })));
    const found = new Int8Array(values.length);
    let offset = 0;
    for (const part of results) {
      found.set(part.found, offset);
      offset += part.found.length;
    }
    return { found, out: results.flatMap((part) => part.out) };
  }

  /** Rows `[key, xmin, ...columns]` in, split across the workers; the parts are merged in row order. */
  async runRows(rows: unknown[][], width: number, now: number): Promise<RowsResult> {
    const parts = await Promise.all(this.#chunks(rows).map((part) => this.#send<RowsResult>({ rows: part, width, now })));
    const joined = (pick: (part: RowsResult) => string): string =>
      parts.filter((part) => part.changed > 0).map(pick).join(',');
    return {
      rows: rows.length,
      values: parts.reduce((n, part) => n + part.values, 0),
      byKey: parts.reduce((sum, part) => sum.map((n, k) => n + (part.byKey[k] ?? 0)), parts[0]?.byKey.map(() => 0) ?? []),
      failed: parts.reduce((n, part) => n + part.failed, 0),
      failures: parts.flatMap((part) => part.failures),
      changed: parts.reduce((n, part) => n + part.changed, 0),
      ids: joined((part) => part.ids),
      xmins: joined((part) => part.xmins),
      columns: Array.from({ length: width }, (_, c) => joined((part) => part.columns[c]!)),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #chunks<T>(items: T[]): T[][] {
    const size = Math.max(1, Math.ceil(items.length / this.#workers.length));
    const chunks: T[][] = [];
    for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
    return chunks;
  }

  #send<R>(job: Record<string, unknown>): Promise<R> {
    const id = this.#next++;
    const worker = this.#workers[this.#turn++ % this.#workers.length]!;
    return new Promise<R>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (result: never) => void, reject });
      worker.postMessage({ ...job, id });
    });
  }

  #failAll(error: unknown): void {
    for (const job of this.#waiting.values()) job.reject(error);
    this.#waiting.clear();
  }
}

export function defaultPoolSize(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

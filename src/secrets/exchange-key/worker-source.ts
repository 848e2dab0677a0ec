import { decodeLikePython } from './fernet.js';

/**
 * Re-encryption is CPU-bound (HMAC + AES per value, twice), so it runs on worker threads, one per core. The worker
 * is plain JavaScript evaluated from this string so that it runs the same from `src/` (vitest) and `dist/`; it is
 * a second copy of fernet.ts, and test/unit/fernet.test.ts holds both to the same vectors and to Python.
 *
 * For each value the worker finds the first key (in `keys` order) that decrypts it and, when `target >= 0` and that
 * key is not the target, re-encrypts the plaintext under `keys[target]`. Jobs: `{ id, values, now }` answers
 * per value (CryptoResult); `{ id, packed, count, width, now }` answers per batch with the UPDATE's parameters
 * (a WorkerBatch, merged into a RowsResult by crypto-pool.ts).
 */
export const WORKER_SOURCE = String.raw`
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
  return { inner, outer, views: new Map(), enc: Buffer.from(raw.subarray(16, 32)) };
}
const keys = workerData.keys.map(prepareKey);
const target = workerData.target;

// HMAC-SHA256 = H(opad-key | H(ipad-key | message)), with the padded keys kept in place in reusable buffers.
// The message is bytes [start, end) of data. Digests come back as latin1 strings: a Buffer result costs a native
// backing store per call, several times the hash itself on short messages.
function hmac(key, data, start, end) {
  const length = 64 + end - start;
  if (length > key.inner.length) {
    const grown = Buffer.alloc(2 * length);
    key.inner.copy(grown, 0, 0, 64);
    key.inner = grown;
    key.views.clear();
  }
  let view = key.views.get(length);
  if (view === undefined) key.views.set(length, (view = key.inner.subarray(0, length)));
  for (let i = start, j = 64; i < end; i++, j++) view[j] = data[i];
  key.outer.write(crypto.hash('sha256', view, 'latin1'), 64, 'latin1');
  return crypto.hash('sha256', key.outer, 'latin1');
}

// Constant time: no branch or early exit depends on the bytes compared.
function macMatches(mac, data, at) {
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= mac.charCodeAt(i) ^ data[at + i];
  return diff === 0;
}

const CLEAN = /^[A-Za-z0-9_-]+={0,2}$/;
// The same function as fernet.ts's (its source is spliced in): base64.urlsafe_b64decode as Python does it.
const decodeLikePython = ${decodeLikePython.toString()};
function decode(text) {
  if (CLEAN.test(text) && text.length % 4 === 0) return Buffer.from(text, 'base64url');
  return decodeLikePython(text);
}

function ecb(key, decrypt, blocks) {
  const c = decrypt ? crypto.createDecipheriv('aes-128-ecb', key.enc, null) : crypto.createCipheriv('aes-128-ecb', key.enc, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(blocks), c.final()]);
}

const CHECKED = Buffer.alloc(0);

/**
 * Plaintexts (or undefined) of decoded tokens under one key. Without needPlain (a read-only pass, or values already
 * under the target key) only the last block is decrypted: PKCS7 padding, the one thing left to check once the HMAC
 * matches, lives there; the result is then an empty buffer meaning "decrypts".
 */
function decryptAll(key, datas, needPlain) {
  const ok = [];
  for (let i = 0; i < datas.length; i++) {
    const d = datas[i];
    if (d === undefined || d.length < 73 || d[0] !== 0x80 || (d.length - 57) % 16 !== 0) continue;
    if (macMatches(hmac(key, d, 0, d.length - 32), d, d.length - 32)) ok.push(i);
  }
  const out = new Array(datas.length);
  if (ok.length === 0) return out;
  const blocks = needPlain
    ? ok.map((i) => datas[i].subarray(25, datas[i].length - 32))
    : ok.map((i) => datas[i].subarray(datas[i].length - 48, datas[i].length - 32));
  const plain = ecb(key, true, Buffer.concat(blocks));
  let at = 0;
  for (const i of ok) {
    const d = datas[i];
    const n = needPlain ? d.length - 57 : 16;
    // CBC: P_j = D(C_j) xor C_(j-1), with C_(-1) = IV; IV | C sits contiguous in the token.
    const before = needPlain ? 9 : d.length - 64;
    for (let j = 0; j < n; j++) plain[at + j] ^= d[before + j];
    const padLen = plain[at + n - 1];
    let good = padLen >= 1 && padLen <= 16;
    for (let j = 1; good && j <= padLen; j++) good = plain[at + n - j] === padLen;
    if (good) out[i] = needPlain ? plain.subarray(at, at + n - padLen) : CHECKED;
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
  const head = Buffer.alloc(9);
  head[0] = 0x80;
  head.writeBigUInt64BE(BigInt(now), 1);
  for (let i = 0; i < count; i++) {
    const o = starts[i];
    const p = plains[i];
    for (let j = 0; j < 9; j++) out[o + j] = head[j];
    for (let j = 0; j < 16; j++) out[o + 9 + j] = ivs[16 * i + j];
    out.set(p, o + 25);
    const padLen = sizes[i] - 57 - p.length;
    for (let j = o + 25 + p.length, stop = o + sizes[i] - 32; j < stop; j++) out[j] = padLen;
  }
  // CBC in place: block r of every token at once; the block before it (IV or ciphertext) is already in place.
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
    for (let w = 0; w < n; w++) for (let j = 0, at = who[w]; j < 16; j++) out[at + j] = y[16 * w + j];
  }
  const tokens = new Array(count);
  for (let i = 0; i < count; i++) {
    const end = starts[i] + sizes[i];
    out.write(hmac(key, out, starts[i], end - 32), end - 32, 'latin1');
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
    const got = decryptAll(keys[k], left.map((i) => datas[i]), target >= 0 && k !== target);
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

/**
 * Rows packed as one string (fields joined by NUL, which PostgreSQL text never holds; NULL arrives as "", and both
 * are left alone) -> counts, the first failures, and the UPDATE's parameters for the rows that changed: one
 * PostgreSQL binary text[] element section per parameter (keys, xmins, then one per column; NULL = unchanged), all in
 * one ArrayBuffer that is transferred, not copied. One string in and one buffer out keep the main thread's share of
 * a batch to a memcpy each way instead of a structured clone of every field.
 */
function processPacked(packed, count, width, now) {
  const fields = packed.split('\0');
  const stride = width + 2;
  const values = [];
  const slots = [];
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < width; c++) {
      const value = fields[r * stride + 2 + c];
      if (value !== '') {
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
    else if (failed++ < 50) failures.push({ column, id: fields[row * stride] });
    if (out[i] !== null) {
      if (!changed.has(row)) changed.set(row, new Array(width).fill(null));
      changed.get(row)[column] = out[i];
    }
  }
  const sections = new Array(stride).fill(0);
  const nulls = new Array(stride).fill(false);
  for (const [row, tokens] of changed) {
    sections[0] += 4 + Buffer.byteLength(fields[row * stride]);
    sections[1] += 4 + fields[row * stride + 1].length;
    for (let c = 0; c < width; c++) {
      if (tokens[c] === null) nulls[2 + c] = true;
      sections[2 + c] += 4 + (tokens[c] === null ? 0 : tokens[c].length);
    }
  }
  const buffer = Buffer.allocUnsafeSlow(sections.reduce((a, b) => a + b, 0));
  let at = 0;
  const put = (text, encoding) => {
    const n = buffer.write(text, at + 4, encoding);
    buffer.writeInt32BE(n, at);
    at += 4 + n;
  };
  for (const row of changed.keys()) put(fields[row * stride], 'utf8');
  for (const row of changed.keys()) put(fields[row * stride + 1], 'latin1');
  for (let c = 0; c < width; c++) {
    for (const tokens of changed.values()) {
      if (tokens[c] === null) {
        buffer.writeInt32BE(-1, at);
        at += 4;
      } else put(tokens[c], 'latin1');
    }
  }
  return { rows: count, values: values.length, byKey, failed, failures, changed: changed.size, sections, nulls, buffer: buffer.buffer };
}

parentPort.on('message', (job) => {
  if (job.packed !== undefined) {
    const result = processPacked(job.packed, job.count, job.width, job.now);
    parentPort.postMessage({ id: job.id, result }, [result.buffer]);
  } else parentPort.postMessage({ id: job.id, result: processValues(job.values, job.now) });
});
`;

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
const keys = workerData.keys.map((raw) => ({ sign: Buffer.from(raw.subarray(0, 16)), enc: Buffer.from(raw.subarray(16, 32)) }));
const target = workerData.target;

function decode(text) {
  const clean = text.replace(/[^A-Za-z0-9_\-+/=]/g, '');
  const pad = clean.indexOf('=');
  const data = pad === -1 ? clean : clean.slice(0, pad);
  const rest = data.length % 4;
  if (rest === 1) return undefined;
  if (rest !== 0 && !clean.startsWith('='.repeat(4 - rest), pad === -1 ? clean.length : pad)) return undefined;
  return Buffer.from(data.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function decrypt(key, data) {
  if (data.length < 25 + 16 + 32 || data[0] !== 0x80 || (data.length - 57) % 16 !== 0) return undefined;
  const mac = crypto.createHmac('sha256', key.sign).update(data.subarray(0, data.length - 32)).digest();
  if (!crypto.timingSafeEqual(mac, data.subarray(data.length - 32))) return undefined;
  try {
    const d = crypto.createDecipheriv('aes-128-cbc', key.enc, data.subarray(9, 25));
    return Buffer.concat([d.update(data.subarray(25, data.length - 32)), d.final()]);
  } catch {
    return undefined;
  }
}

function encrypt(key, plaintext, now, iv) {
  const c = crypto.createCipheriv('aes-128-cbc', key.enc, iv);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  const head = Buffer.alloc(9);
  head[0] = 0x80;
  head.writeBigUInt64BE(BigInt(now), 1);
  const signed = Buffer.concat([head, iv, body]);
  const mac = crypto.createHmac('sha256', key.sign).update(signed).digest();
  const text = Buffer.concat([signed, mac]).toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}

parentPort.on('message', ({ id, values, now }) => {
  const found = new Int8Array(values.length);
  const out = new Array(values.length).fill(null);
  const ivs = target >= 0 ? crypto.randomBytes(16 * values.length) : undefined;
  for (let i = 0; i < values.length; i++) {
    const data = decode(values[i]);
    let plain;
    let k = -1;
    if (data !== undefined) {
      for (let j = 0; j < keys.length && plain === undefined; j++) {
        plain = decrypt(keys[j], data);
        if (plain !== undefined) k = j;
      }
    }
    found[i] = k;
    if (k >= 0 && target >= 0 && k !== target) out[i] = encrypt(keys[target], plain, now, ivs.subarray(16 * i, 16 * i + 16));
  }
  parentPort.postMessage({ id, found, out });
});
`;

export interface CryptoResult {
  /** Per value: the index of the key that decrypted it, or -1. */
  found: Int8Array;
  /** Per value: the token re-encrypted under the target key, or null (not needed, or not decryptable). */
  out: (string | null)[];
}

/** A pool of Fernet workers holding `keys` (raw 32-byte keys, in the order to try them). */
export class CryptoPool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<number, { resolve(r: CryptoResult): void; reject(e: unknown): void }>();
  #next = 0;
  #turn = 0;

  constructor(keys: Buffer[], target: number, size = defaultPoolSize()) {
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { keys: keys.map((k) => new Uint8Array(k)), target } });
      worker.on('message', (reply: { id: number } & CryptoResult) => {
        const job = this.#waiting.get(reply.id);
        this.#waiting.delete(reply.id);
        job?.resolve({ found: reply.found, out: reply.out });
      });
      worker.on('error', (error) => this.#failAll(error));
      return worker;
    });
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Runs the values through the workers in parallel chunks; the result keeps the values' order. */
  async run(values: string[], now: number): Promise<CryptoResult> {
    if (values.length === 0) return { found: new Int8Array(0), out: [] };
    const chunk = Math.ceil(values.length / this.#workers.length);
    const parts: Promise<CryptoResult>[] = [];
    for (let start = 0; start < values.length; start += chunk) parts.push(this.#send(values.slice(start, start + chunk), now));
    const results = await Promise.all(parts);
    const found = new Int8Array(values.length);
    let offset = 0;
    for (const part of results) {
      found.set(part.found, offset);
      offset += part.found.length;
    }
    return { found, out: results.flatMap((part) => part.out) };
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #send(values: string[], now: number): Promise<CryptoResult> {
    const id = this.#next++;
    const worker = this.#workers[this.#turn++ % this.#workers.length]!;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ id, values, now });
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

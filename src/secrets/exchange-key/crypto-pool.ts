import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { WORKER_SOURCE } from './worker-source.js';

/**
 * A worker holds about three batches. Left to V8's defaults its heaps grow to ~50 MB each under this churn; a young
 * generation much below 12 MB costs CPU in scavenges. These limits keep the process near 200 MB at any table size.
 */
const LIMITS = { maxYoungGenerationSizeMb: 12, maxOldGenerationSizeMb: 96 };

export interface CryptoResult {
  /** Per value: the index of the key that decrypted it, or -1. */
  found: Int8Array;
  /** Per value: the token re-encrypted under the target key, or null (not needed, or not decryptable). */
  out: (string | null)[];
}

/** A batch of rows worked through: counts, and the UPDATE's parameters for the rows that changed. */
export interface RowsResult {
  rows: number;
  values: number;
  byKey: number[];
  failed: number;
  failures: { column: number; id: string }[];
  changed: number;
  /** PostgreSQL binary `text[]` values, sent as binary parameters: keys, xmins, then one per column (NULL = unchanged). */
  params: Buffer[];
}

/** One worker's part of a batch: the element sections of every parameter, back to back in `buffer`. */
interface WorkerBatch extends Omit<RowsResult, 'params'> {
  sections: number[];
  nulls: boolean[];
  buffer: ArrayBuffer;
}

const TEXT_OID = 25;

/** A one-dimensional binary array header (ndim, has-nulls, element type, length, lower bound) before the elements. */
function binaryTextArray(count: number, hasNull: boolean, elements: Buffer[]): Buffer {
  const header = Buffer.alloc(20);
  header.writeInt32BE(1, 0);
  header.writeInt32BE(hasNull ? 1 : 0, 4);
  header.writeUInt32BE(TEXT_OID, 8);
  header.writeInt32BE(count, 12);
  header.writeInt32BE(1, 16);
  return Buffer.concat([header, ...elements]);
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

  /**
   * Rows `[key, xmin, ...columns]` in, split across the workers; the parts come back in row order. Each part travels
   * as one NUL-joined string (PostgreSQL text never holds NUL; NULL and "" both mean "leave alone").
   */
  async runRows(rows: unknown[][], width: number, now: number): Promise<RowsResult> {
    const parts = await Promise.all(
      this.#chunks(rows).map((part) =>
        this.#send<WorkerBatch>({ packed: part.map((row) => row.join('\0')).join('\0'), count: part.length, width, now }),
      ),
    );
    const changed = parts.reduce((n, part) => n + part.changed, 0);
    const params: Buffer[] = [];
    if (changed > 0) {
      for (let p = 0; p < width + 2; p++) {
        const elements = parts.map((part) => {
          const start = part.sections.slice(0, p).reduce((a, b) => a + b, 0);
          return Buffer.from(part.buffer, start, part.sections[p]);
        });
        params.push(
          binaryTextArray(
            changed,
            parts.some((part) => part.nulls[p]),
            elements,
          ),
        );
      }
    }
    return {
      rows: rows.length,
      values: parts.reduce((n, part) => n + part.values, 0),
      byKey: parts.reduce((sum, part) => sum.map((n, k) => n + (part.byKey[k] ?? 0)), parts[0]?.byKey.map(() => 0) ?? []),
      failed: parts.reduce((n, part) => n + part.failed, 0),
      failures: parts.flatMap((part) => part.failures),
      changed,
      params,
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

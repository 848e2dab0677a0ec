// The behaviour every Store must share (file and postgres), run by both stores' test files.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { appendChained, verifyChain } from '../../src/history/audit.js';
import type { HistoryEntry, Journal, SealedRotation, SecretState, Store } from '../../src/store/types.js';

export interface StoreHarness {
  /** A new Store instance on the same location, as another process or host would open it. */
  open(options?: { masterKey?: string; keepBackups?: number }): Promise<Store>;
  /** Everything the store keeps at rest (file bytes, table rows), as text to grep for plaintext. */
  atRest(): Promise<string>;
  /** Warnings the stores opened by this harness gave. */
  warnings: string[];
  /**
   * Damages the history the way this store can be damaged (file: a record cut off mid-line by a crash or a full
   * disk; postgres: a row that is not a record, put there by hand) and says where the damaged record is.
   */
  damageHistory(): Promise<{ line: number }>;
}

/** A fresh id so tests sharing one location (a postgres schema per file) do not see each other's rows. */
export const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export const otherMasterKey = (): string => randomBytes(32).toString('base64');

export function historyEntry(secret: string, runId: string, result: HistoryEntry['result']): HistoryEntry {
  return {
    at: new Date().toISOString(),
    runId,
    secret,
    kind: 'jwt',
    action: 'rotate',
    result,
    actor: 'tester@host',
    facts: { length: 32, nested: { ok: true, list: [1, 'two', null] } },
  };
}

/** A run-set journal for one jwt secret with no step taken yet: what a run pending for `rotate resume` leaves. */
async function pendingRun(store: Store, runId: string, secret: string, extra: Partial<Journal> = {}): Promise<Journal> {
  return {
    format: 2,
    runId,
    mode: 'rotate',
    startedAt: new Date().toISOString(),
    host: hostname(),
    pid: process.pid,
    emergency: false,
    secrets: [{ secret, kind: 'jwt', rotation: sealedRotation(await store.seal('{}', `rotation:${secret}`)), steps: [] }],
    steps: [],
    ...extra,
  };
}

async function writePendingRun(store: Store, runId: string, secret: string, extra: Partial<Journal> = {}): Promise<void> {
  await store.writeJournal(await pendingRun(store, runId, secret, extra));
}

function sealedRotation(sealed: string): SealedRotation {
  return { facts: { algorithm: 'HS256', bytes: 32 }, envKeys: ['JWT_SECRET', 'JWT_SECRET_PREVIOUS'], sealed };
}

export function storeSuite(label: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${label}: shared Store behaviour`, () => {
    const opened: Store[] = [];
    const open = async (harness: StoreHarness, options?: { masterKey?: string; keepBackups?: number }): Promise<Store> => {
      const store = await harness.open(options);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('takes the lock; a second acquire fails with LOCKED (exit 4) naming the holder; release lets the next in', async () => {
      const harness = await makeHarness();
      const first = await open(harness);
      const second = await open(harness);
      const lock = await first.acquireLock('rotate jwt');
      const error = await second.acquireLock('rotate --due').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: 'RotateError', code: 'LOCKED', exitCode: 4 });
      const message = (error as Error).message;
      expect(message).toContain(String(process.pid));
      expect(message).toContain(hostname());
      expect(message).toContain('rotate jwt');
      await lock.release();
      const next = await second.acquireLock('rotate --due');
      await next.release();
    });

    it('round-trips state per secret and overwrites only the one written', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const [one, two] = [uniqueId('jwt'), uniqueId('redis')];
      const sealed = await store.seal('{"secrets":{}}', 'rotation');
      const stateOne: SecretState = {
        lastRotatedAt: '2025-01-02T03:04:05.000Z',
        lastRunId: 'run-1',
        last: sealedRotation(sealed),
        pendingRetire: { after: '2025-01-03T03:04:05.000Z', runId: 'run-1' },
      };
      await store.writeState(one, stateOne);
      await store.writeState(two, { lastRotatedAt: '2025-02-01T00:00:00.000Z' });
      await store.writeState(two, { lastRotatedAt: '2025-03-01T00:00:00.000Z', lastRunId: 'run-2' });
      const states = await (await open(harness)).readStates();
      expect(states[one]).toEqual(stateOne);
      expect(states[two]).toEqual({ lastRotatedAt: '2025-03-01T00:00:00.000Z', lastRunId: 'run-2' });
    });

    it('keeps history append-only, oldest first', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const secret = uniqueId('jwt');
      const entries = [
        historyEntry(secret, 'run-1', 'rotated'),
        historyEntry(secret, 'run-2', 'failed'),
        { ...historyEntry(secret, 'run-3', 'rolled-back'), error: { code: 'VERIFY_FAILED', message: '401' } },
      ];
      await store.appendHistory(entries[0]!);
      const before = (await store.readHistory()).filter((e) => e.secret === secret);
      await store.appendHistory(entries[1]!);
      await (await open(harness)).appendHistory(entries[2]!);
      const after = (await store.readHistory()).filter((e) => e.secret === secret);
      expect(before).toEqual(entries.slice(0, 1));
      expect(after).toEqual(entries);
    });

    it('a damaged history record is named (where, line) and skipped; every good record before and after it is read', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const secret = uniqueId('jwt');
      await store.appendHistory(historyEntry(secret, 'run-1', 'rotated'));
      const damage = await harness.damageHistory();
      await store.appendHistory(historyEntry(secret, 'run-2', 'failed'));
      await (await open(harness)).appendHistory(historyEntry(secret, 'run-3', 'rotated'));
      const report = await (await open(harness)).readHistoryReport();
      expect(report.entries.filter((e) => e.secret === secret).map((e) => e.runId)).toEqual(['run-1', 'run-2', 'run-3']);
      const named = report.damaged.find((d) => d.line === damage.line);
      expect(named).toMatchObject({ file: expect.stringContaining('history'), error: expect.any(String) });
      expect((await store.readHistory()).filter((e) => e.secret === secret)).toHaveLength(3);
    });

    it('round-trips journals, one per run, and removes them', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const runId = uniqueId('run');
      const pending = await pendingRun(store, runId, 'jwt');
      const journal: Journal = {
        ...pending,
        secrets: [
          {
            ...pending.secrets[0]!,
            rotation: sealedRotation(await store.seal('{"secrets":{"JWT_SECRET":"x"}}', 'rotation:jwt')),
            steps: [{ name: 'apply', state: 'started', at: new Date().toISOString() }],
          },
        ],
      };
      await store.writeJournal(journal);
      const progressed: Journal = {
        ...journal,
        targetBackup: 'backup-1',
        steps: [{ name: 'write-target', state: 'done', at: new Date().toISOString() }],
        needsPerson: 'rollback failed at undoApply',
      };
      await store.writeJournal(progressed);
      const mine = (await (await open(harness)).readJournals()).filter((j) => j.runId === runId);
      expect(mine).toEqual([progressed]);
      await store.removeJournal(runId);
      await store.removeJournal(runId);
      expect((await store.readJournals()).filter((j) => j.runId === runId)).toEqual([]);
    });

    it('keeps backups encrypted at rest and gives back the same bytes', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const marker = `JWT_SECRET=${randomBytes(24).toString('base64url')}`;
      const data = Buffer.from(`# comment\r\n${marker}\r\nBINARY=\u00e9\u0000end`, 'utf8');
      const id = await store.putBackup('jwt env', data);
      expect(id).toMatch(/^[\w.-]+$/);
      expect((await (await open(harness)).getBackup(id)).equals(data)).toBe(true);
      const rest = await harness.atRest();
      expect(rest).not.toContain(marker.slice('JWT_SECRET='.length));
      expect(rest).not.toContain(Buffer.from(marker).toString('base64'));
    });

    it('keeps only the backups a restore or resume can use: the newest per secret (keepBackups more), and any a journal names', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const [a, b] = [uniqueId('jwt'), uniqueId('redis')];
      const put = (s: Store, label: string) => s.putBackup(label, Buffer.from(`${label}\n`));
      const present = async (id: string) =>
        (await store.getBackup(id).then(
          () => true,
          () => false,
        )) as boolean;
      const a1 = await put(store, a);
      const pinned = await put(store, a);
      const runId = uniqueId('run-pinned');
      await writePendingRun(store, runId, a, { targetBackup: pinned });
      try {
        const b1 = await put(store, b);
        const both = await put(store, `${a}+${b}`);
        const a3 = await put(store, a);
        expect(await present(a1)).toBe(false);
        expect(await present(pinned)).toBe(true); // a pending run's journal names it
        expect(await present(b1)).toBe(false); // the set's backup is newer for b
        expect(await present(both)).toBe(true); // still b's newest
        expect((await store.getBackup(a3)).toString()).toBe(`${a}\n`);

        const roomy = await open(harness, { keepBackups: 2 });
        const a4 = await put(roomy, a);
        const a5 = await put(roomy, a);
        expect(await present(a3)).toBe(false);
        expect(await present(a4)).toBe(true);
        expect(await present(a5)).toBe(true);
        expect(await present(both)).toBe(true);
      } finally {
        await store.removeJournal(runId);
      }
    });

    it('seals with the purpose bound: the right purpose opens, another purpose does not', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const plaintext = `{"JWT_SECRET":"${randomBytes(24).toString('base64url')}"}`;
      const sealed = await store.seal(plaintext, 'rotation:run-1');
      expect(sealed).not.toContain(plaintext);
      expect(await (await open(harness)).unseal(sealed, 'rotation:run-1')).toBe(plaintext);
      await expect(store.unseal(sealed, 'rotation:run-2')).rejects.toMatchObject({ code: 'MASTER_KEY_MISMATCH' });
    });

    it('keeps a chained history verifiable through its own round trip (jsonb reorders keys)', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const secret = uniqueId('chain');
      for (const [i, result] of (['rotated', 'rolled-back', 'retired'] as const).entries()) {
        await appendChained(store, {
          ...historyEntry(secret, `run-${i}`, result),
          durationMs: 1234 + i,
          fingerprints: { old: 'a1b2c3d4e5f6', new: null },
          facts: { zeta: 0.1, alpha: { list: [3, 'é', { y: true, b: null }] }, big: 9007199254740991 },
        });
      }
      // Read back by another instance: records of other tests here are unchained and come first; these three follow.
      const history = await (await open(harness)).readHistory();
      expect(history.filter((e) => e.secret === secret)).toHaveLength(3);
      expect(await verifyChain(store, history)).toMatchObject({ ok: true, checked: 3 });
      const edited = history.map((e) => (e.secret === secret && e.runId === 'run-1' ? { ...e, durationMs: 1 } : e));
      expect(await verifyChain(store, edited)).toMatchObject({ ok: false });
    });

    it('appends one outcome of one run once: a second append of the same run id, secret, action and result is a no-op', async () => {
      const harness = await makeHarness();
      const secret = uniqueId('once');
      const first = await appendChained(await open(harness), historyEntry(secret, 'run-1', 'rotated'));
      // A resumed run (another process) appends the outcome its killed process had already recorded, a bit later.
      const again = await appendChained(await open(harness), {
        ...historyEntry(secret, 'run-1', 'rotated'),
        at: new Date(Date.now() + 5000).toISOString(),
      });
      expect(again).toEqual(first);
      // A parked run's failure and the outcome of the resume that finishes it are two records of the same run.
      await appendChained(await open(harness), { ...historyEntry(secret, 'run-2', 'failed') });
      await appendChained(await open(harness), { ...historyEntry(secret, 'run-2', 'rotated'), action: 'resume' });
      const history = (await (await open(harness)).readHistory()).filter((e) => e.secret === secret);
      expect(history.map((e) => `${e.runId} ${e.action} ${e.result}`)).toEqual([
        'run-1 rotate rotated',
        'run-2 rotate failed',
        'run-2 resume rotated',
      ]);
    });

    it('macs deterministically across instances, bound to the purpose, without the data in it', async () => {
      const harness = await makeHarness();
      const data = randomBytes(24).toString('base64url');
      const first = await (await open(harness)).mac('fingerprint', data);
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(await (await open(harness)).mac('fingerprint', data)).toBe(first);
      expect(await (await open(harness)).mac('history-chain', data)).not.toBe(first);
      expect(await (await open(harness)).mac('fingerprint', `${data}x`)).not.toBe(first);
    });

    it('refuses to open what another master key sealed (MASTER_KEY_MISMATCH)', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const id = await store.putBackup('env', Buffer.from('A=1\n'));
      const wrong = (async () => {
        const other = await open(harness, { masterKey: otherMasterKey() });
        return other.getBackup(id);
      })();
      await expect(wrong).rejects.toMatchObject({ name: 'RotateError', code: 'MASTER_KEY_MISMATCH' });
    });

    it('a wrong master key stops a run before anything changes: exit 2, 3 while a run is pending; the lock stays free', async () => {
      const harness = await makeHarness();
      const store = await open(harness);
      const id = await store.putBackup('env', Buffer.from('A=1\n'));
      const before = await harness.atRest();
      const wrongKey = otherMasterKey();
      const lockWithWrongKey = async () => (await open(harness, { masterKey: wrongKey })).acquireLock('rotate jwt');
      const error = await lockWithWrongKey().then(
        () => undefined,
        (e: unknown) => e as { code: string; exitCode: number; message: string; hint: string },
      );
      expect(error).toMatchObject({ code: 'MASTER_KEY_MISMATCH', exitCode: 2, message: expect.stringContaining('ROTATE_MASTER_KEY') });
      expect(`${error?.message} ${error?.hint}`).not.toContain(wrongKey);
      expect(await harness.atRest()).toBe(before);
      const lock = await store.acquireLock('rotate jwt');
      await lock.release();

      const runId = uniqueId('run-pending');
      await writePendingRun(store, runId, 'jwt');
      try {
        await expect(lockWithWrongKey()).rejects.toMatchObject({ code: 'PENDING_RUN_KEY_MISMATCH', exitCode: 3 });
      } finally {
        await store.removeJournal(runId);
      }
      expect((await (await open(harness)).getBackup(id)).toString()).toBe('A=1\n');
    });
  });
}

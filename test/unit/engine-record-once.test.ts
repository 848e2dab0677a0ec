// A run killed around the history write: the record of each secret's outcome is written before the journal lets go
// of the secret, never lost, and written once (a resume finds it and clears the journal instead of writing it again).
import { describe, expect, it } from 'vitest';
import { rotateSet } from '../../src/engine/pipeline.js';
import { resumeRun } from '../../src/engine/resume.js';
import { fingerprint } from '../../src/history/audit.js';
import { FileStore } from '../../src/store/file.js';
import type { Store } from '../../src/store/types.js';
import { memoryRotator } from '../helpers/memory-rotator.js';
import { type TestSession, testSession } from '../helpers/session.js';

const OLD = 'old-value-0123456789-0123456789-abcdef';
const NEW = 'new-value-9876543210-9876543210-zyxwvu';

type KillPoint = 'at the history append' | 'right after the history append';

/**
 * The store as a process killed at `point` leaves it: the history append (or the store call after it) never
 * happens, nor anything after it. `dead` says whether the kill came.
 */
function dyingStore(store: Store, point: KillPoint): { store: Store; dead: () => boolean } {
  let dead = false;
  let appended = false;
  const wrapped = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (dead) throw new Error('killed');
        if (name === 'appendHistory' && point === 'at the history append') dead = true;
        else if (appended && point === 'right after the history append') dead = true;
        if (dead) throw new Error('killed');
        const out = await value.apply(target, args);
        if (name === 'appendHistory') appended = true;
        return out;
      };
    },
  });
  return { store: wrapped, dead: () => dead };
}

const CONFIG = { services: { app: { restart: 'restart-app' } }, secrets: { jwt: { kind: 'jwt', services: ['app'] } } };

/** The same folder as a new process opens it: a store with nothing of the dead one's memory. */
const reopened = (session: TestSession): TestSession => ({
  ...session,
  store: new FileStore({ dir: `${session.dir}/.rotate`, masterKey: 'b'.repeat(64), holder: { pid: 1, host: 'host' }, warn: () => {} }),
});

describe('engine: a kill around the history write', () => {
  it.each([
    { outcome: 'rotated', failVerify: false, point: 'at the history append' as KillPoint },
    { outcome: 'rotated', failVerify: false, point: 'right after the history append' as KillPoint },
    { outcome: 'rolled-back', failVerify: true, point: 'at the history append' as KillPoint },
    { outcome: 'rolled-back', failVerify: true, point: 'right after the history append' as KillPoint },
  ])(
    'a $outcome run killed $point: after resume its record is there exactly once and no journal is left',
    async ({ outcome, failVerify, point }) => {
      const rotator = memoryRotator(OLD, NEW, { failVerify });
      const session = testSession({ rotator, config: CONFIG });
      const dying = dyingStore(session.store, point);
      await expect(rotateSet({ ...session, store: dying.store }, ['jwt'])).rejects.toThrow('killed');
      expect(dying.dead()).toBe(true);

      const next = reopened(session);
      const journals = await next.store.readJournals();
      expect(journals).toHaveLength(1); // the dead run's journal still says something is pending
      const results = [];
      for (const journal of journals) results.push(...(await resumeRun(next, journal)));
      expect(await next.store.readJournals()).toEqual([]);
      const records = (await next.store.readHistory()).filter((e) => e.secret === 'jwt');
      expect(records.map((e) => e.result)).toEqual([outcome]);
      expect(records[0]!.runId).toBe(journals[0]!.runId);
      expect(results.map((r) => r.secret)).toEqual(['jwt']);
    },
  );
});

describe('engine: a forward resume', () => {
  it('records the fingerprint of the value the run replaced (from the journal), not "-"', async () => {
    const rotator = memoryRotator(OLD, NEW);
    const session = testSession({ rotator, config: CONFIG });
    const dying = dyingStore(session.store, 'at the history append');
    // Killed once every step ran: resume goes forward, in a process that never read the env file before the run.
    await expect(rotateSet({ ...session, store: dying.store }, ['jwt'])).rejects.toThrow('killed');
    const next = reopened(session);
    const [journal] = await next.store.readJournals();
    expect((await resumeRun(next, journal!)).map((r) => r.status)).toEqual(['rotated']);
    const [recorded] = (await next.store.readHistory()).filter((e) => e.secret === 'jwt');
    expect(recorded!.fingerprints).toEqual({ old: await fingerprint(next.store, OLD), new: await fingerprint(next.store, NEW) });
  });
});

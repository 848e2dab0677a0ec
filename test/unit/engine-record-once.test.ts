// A run killed around the history write: the record of each secret's outcome is written before the journal lets go
// of the secret, never lost, and written once (a resume finds it and clears the journal instead of writing it again).
import { afterEach, describe, expect, it } from 'vitest';
import { rotateSet } from '../../src/engine/pipeline.js';
import { resumeRun } from '../../src/engine/resume.js';
import { fingerprint } from '../../src/history/audit.js';
import { FileStore } from '../../src/store/file.js';
import type { Store } from '../../src/store/types.js';
import { findLeaks } from '../helpers/cli.js';
import { memoryRotator } from '../helpers/memory-rotator.js';
import { type TestSession, testSession } from '../helpers/session.js';
import { startWebhook, type Webhook } from '../helpers/webhook.js';

const OLD = 'old-value-0123456789-0123456789-abcdef';
const NEW = 'new-value-9876543210-9876543210-zyxwvu';

type KillPoint = 'at the history append' | 'right after the history append' | 'right after the notification';

/**
 * The store as a process killed at `point` leaves it: the history append (or the store call after it) never
 * happens, nor anything after it. `dead` says whether the kill came.
 */
function dyingStore(store: Store, point: KillPoint, posted: () => boolean = () => false): { store: Store; dead: () => boolean } {
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
        // The first store call once the webhook has the notification: the journal letting go of the secret.
        else if (appended && point === 'right after the notification' && posted()) dead = true;
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

describe('engine: the notification of a run killed around its record', () => {
  let hook: Webhook | undefined;
  afterEach(async () => {
    await hook?.close();
    hook = undefined;
  });

  it.each([
    { outcome: 'rotated', failVerify: false, point: 'right after the history append' as KillPoint, byResume: 1 },
    { outcome: 'rolled-back', failVerify: true, point: 'right after the history append' as KillPoint, byResume: 1 },
    { outcome: 'rotated', failVerify: false, point: 'right after the notification' as KillPoint, byResume: 0 },
    { outcome: 'rolled-back', failVerify: true, point: 'right after the notification' as KillPoint, byResume: 0 },
  ])(
    'a $outcome run killed $point: resume posts what was not posted, and nothing twice',
    async ({ outcome, failVerify, point, byResume }) => {
      hook = await startWebhook();
      const config = { ...CONFIG, notify: { webhookUrl: hook.url, on: ['success', 'failure'] } };
      const rotator = memoryRotator(OLD, NEW, { failVerify });
      const session = testSession({ rotator, config });
      const webhook = hook;
      const dying = dyingStore(session.store, point, () => webhook.bodies.length > 0);
      await expect(rotateSet({ ...session, store: dying.store }, ['jwt'])).rejects.toThrow('killed');
      const beforeResume = hook.events().length;
      expect(beforeResume).toBe(1 - byResume);

      const next = reopened(session);
      for (const journal of await next.store.readJournals()) await resumeRun(next, journal);
      // A second resume finds nothing: no journal, no notification.
      expect(await next.store.readJournals()).toEqual([]);
      const events = hook.events();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ secret: 'jwt', result: outcome, event: outcome === 'rotated' ? 'success' : 'failure' });
      expect(events[0]!.resumed).toBe(byResume === 1 ? true : undefined);
      expect(findLeaks({ hook: hook.bodies.join('\n') }, [OLD, NEW])).toEqual([]);
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

// The line the first SIGINT/SIGTERM prints at once says what rotate will do: the step it stops after (or inside, where
// the rotator stops early), what `rotate resume` then does, and what a second signal does (#25 item 6).
import { describe, expect, it } from 'vitest';
import { stopAcknowledgement } from '../../src/commands/interrupt.js';
import { rotateSet } from '../../src/engine/pipeline.js';
import { resumeRun } from '../../src/engine/resume.js';
import { BEFORE_CHANGES, stopNotice } from '../../src/engine/stop.js';
import type { Rotator } from '../../src/secrets/types.js';
import type { Journal } from '../../src/store/types.js';
import { memoryRotator } from '../helpers/memory-rotator.js';
import { testSession } from '../helpers/session.js';

const OLD = 'old-value-0123456789-0123456789-abcdef';
const NEW = 'new-value-9876543210-9876543210-zyxwvu';

/**
 * A session whose engine registers what a stop would do (EngineDeps.describeStop) and a rotator that notes it at each
 * of its steps: what the first signal would have printed there.
 */
function probed(change: (rotator: Rotator, note: (step: string) => void) => Rotator = (r) => r) {
  const describers: (() => string | undefined)[] = [];
  const said: Record<string, string | undefined> = {};
  const now = () =>
    [...describers]
      .reverse()
      .map((d) => d())
      .find(Boolean);
  const note = (step: string) => {
    said[step] = now();
  };
  const base = memoryRotator(OLD, NEW);
  const rotator: Rotator = {
    ...base,
    preflight: async (ctx) => (note('preflight'), base.preflight(ctx)),
    apply: async (ctx, r) => (note('apply'), base.apply(ctx, r)),
    verify: async (ctx, r) => (note('verify'), base.verify(ctx, r)),
    retire: async (ctx, r) => (note('retire'), base.retire(ctx, r)),
    undoApply: async (ctx, r) => (note('undoApply'), base.undoApply(ctx, r)),
  };
  const session = testSession({ rotator: change(rotator, note) });
  session.deps.describeStop = (describe) => {
    describers.push(describe);
    return () => void describers.splice(describers.lastIndexOf(describe), 1);
  };
  return { session, said, now };
}

describe('what a stop would do, said when the signal comes', () => {
  it('at each step of a run: the step it stops after and what resume then does; nothing once the run is over', async () => {
    const { session, said, now } = probed();
    const [result] = await rotateSet(session, ['jwt']);
    expect(result!.status).toBe('rotated');
    expect(said.preflight).toBe(BEFORE_CHANGES);
    expect(said.apply).toBe('stopping after step 1 of 6: apply; the run is then left pending (exit 3) and `rotate resume` undoes it');
    expect(said.verify).toBe(
      'stopping after step 4 of 6: verify; the run is then left pending (exit 3) and `rotate resume` finishes it if every secret passed verification, and otherwise undoes it',
    );
    expect(said.retire).toMatch(/^the new values are verified: rotate finishes step 5 of 6: retire and the rest of the run; /);
    // The run has ended: the command layer's own words apply again.
    expect(now()).toBeUndefined();
  });

  it('inside an apply that stops early, in its words; during a rollback, that the rollback goes on', async () => {
    const { session, said } = probed((rotator) => ({
      ...rotator,
      stopsApplyAt: () => 'after the batch being re-encrypted',
      verify: async () => [{ id: 'env-key-holds-new' as const, name: 'new works', ok: false }],
    }));
    const [result] = await rotateSet(session, ['jwt']);
    expect(result!.status).toBe('rolled-back');
    expect(said.apply).toBe(
      'stopping apply (step 1 of 6) after the batch being re-encrypted; the run is then left pending (exit 3) and `rotate resume` undoes it',
    );
    expect(said.undoApply).toMatch(/^the rollback goes on to its end, then rotate exits; /);
  });

  it('a resumed run that had not verified is undone: a stop lets the undo finish', async () => {
    const { session } = probed((rotator) => ({
      ...rotator,
      verify: async () => {
        throw new Error('killed'); // the process "dies" here; its rollback dies too
      },
      undoApply: async () => {
        throw new Error('killed');
      },
    }));
    await rotateSet(session, ['jwt']);
    const [journal] = (await session.store.readJournals()) as Journal[];
    const resumer = probed();
    const [resumed] = await resumeRun(
      { ...session, deps: { ...resumer.session.deps, describeStop: resumer.session.deps.describeStop } },
      journal!,
    );
    expect(resumed!.status).toBe('undone');
    expect(resumer.said.undoApply).toMatch(/^the rollback goes on to its end/);
  });

  it('stopNotice: a restart is ended; a committed run is finished by resume', () => {
    const step = { name: 'restart', number: 3, of: 6, phase: 'change' as const, commits: false };
    expect(stopNotice({ step, committed: false, undoing: false })).toBe(
      'stopping now: the restart command under way is ended (step 3 of 6: restart); the run is then left pending (exit 3) and `rotate resume` undoes it',
    );
    const ack = { ...step, name: 'fleet-ack', number: 5 };
    expect(stopNotice({ step: ack, committed: true, undoing: false })).toMatch(
      /after step 5 of 6: fleet-ack; .* `rotate resume` finishes it$/,
    );
  });

  it('the acknowledgement names the signal and what a second one does', () => {
    expect(stopAcknowledgement('SIGINT', 'stopping after step 1 of 6: apply; …')).toBe(
      'SIGINT: stopping after step 1 of 6: apply; …. To exit at once, press Ctrl-C again (exit 3: a run it was changing is left pending as it stands; `rotate status` shows it)',
    );
    expect(stopAcknowledgement('SIGTERM', undefined)).toMatch(
      /^SIGTERM: stopping at the next safe point\. To exit at once, send SIGTERM again /,
    );
  });
});

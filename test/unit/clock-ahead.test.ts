// A run made while the clock was 91 days ahead leaves a "last rotated" in the future once the clock is right again
// (#22 item 5): status flags it and --check fails, --due rotates it (its real age is unknown), and mark corrects it.
import { describe, expect, it } from 'vitest';
import { schedules } from '../../src/engine/due.js';
import { mark } from '../../src/engine/mark.js';
import { rotateSet } from '../../src/engine/pipeline.js';
import { select } from '../../src/engine/select.js';
import { checkExitCode, checkProblems, secretHealth } from '../../src/monitoring/health.js';
import { memoryRotator } from '../helpers/memory-rotator.js';
import { testSession } from '../helpers/session.js';

const OLD = 'old-value-0123456789-0123456789-abcdef';
const NEW = 'new-value-9876543210-9876543210-zyxwvu';
const DAY = 86_400_000;

/** A session whose last rotation was recorded with the clock 91 days ahead; the clock is right again. */
async function rotatedAhead() {
  const session = testSession({ rotator: memoryRotator(OLD, NEW) });
  const now = session.clock.now;
  session.clock.now = new Date(now.getTime() + 91 * DAY);
  expect((await rotateSet(session, ['jwt'])).map((r) => r.status)).toEqual(['rotated']);
  session.clock.now = now;
  return session;
}

describe('a last rotation recorded in the future', () => {
  it('is flagged by status (state future), fails status --check, and says how to correct it', async () => {
    const session = await rotatedAhead();
    const [jwt] = await schedules(session);
    expect(jwt!.schedule.state).toBe('future');
    const health = await secretHealth(session);
    expect(checkExitCode(health)).toBe(1);
    expect(checkProblems(health).join('\n')).toMatch(
      /jwt: the last rotation is recorded in the future \(.*\): .*rotate mark jwt --rotated-at/,
    );
  });

  it('is due for --due: its real age is unknown', async () => {
    const session = await rotatedAhead();
    const selection = await select(session, { ids: [], due: true, all: false }, (iso) => iso);
    expect(selection.rotate).toEqual(['jwt']);
  });

  it('rotate mark corrects it with a date in the past', async () => {
    const session = await rotatedAhead();
    const yesterday = new Date(session.clock.now.getTime() - DAY);
    await mark(session, { id: 'jwt', rotatedAt: yesterday, rotatedAtText: 'yesterday', localTime: (iso) => iso });
    const [jwt] = await schedules(session);
    expect(jwt!.schedule).toMatchObject({ state: 'ok', lastRotatedAt: yesterday.toISOString() });
  });

  it('a record a few minutes ahead (another host of a shared store, its clock slightly off) is not flagged', async () => {
    const session = testSession({ rotator: memoryRotator(OLD, NEW) });
    const now = session.clock.now;
    session.clock.now = new Date(now.getTime() + 60_000);
    await rotateSet(session, ['jwt']);
    session.clock.now = now;
    expect((await schedules(session))[0]!.schedule.state).toBe('ok');
  });
});

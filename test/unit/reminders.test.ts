// Due-soon reminders on a fake clock: the real file store, a local webhook, no rotation.
import { afterEach, describe, expect, it } from 'vitest';
import type { SecretResult } from '../../src/engine/result.js';
import { sendReminders } from '../../src/notify/reminders.js';
import type { Rotator } from '../../src/secrets/types.js';
import { testSession } from '../helpers/session.js';
import { startWebhook, type Webhook } from '../helpers/webhook.js';

const DAY = 86_400_000;
const hooks: Webhook[] = [];
afterEach(async () => {
  await Promise.all(hooks.splice(0).map((hook) => hook.close()));
});

const skipped = (secret: string, kind: string): SecretResult => ({
  secret,
  kind,
  status: 'skipped',
  checks: [],
  facts: {},
  envKeys: [],
  steps: [],
});

async function setup(notify: Record<string, unknown> = {}, rotator = {} as Rotator) {
  const hook = await startWebhook();
  hooks.push(hook);
  const session = testSession({
    rotator,
    config: {
      secrets: { jwt: { kind: 'jwt', intervalDays: 90 }, stripe: { kind: 'stripe', intervalDays: 90 } },
      notify: { webhookUrl: hook.url, ...notify },
    },
    envText: 'JWT_SECRET=old-value-0123456789-0123456789-abcdef\nSTRIPE_SECRET_KEY=sk_test_x\n',
  });
  return { hook, session };
}

describe('due-soon reminders', () => {
  it('remind a secret within remindDaysBefore once a day, from the day it enters the period', async () => {
    const { hook, session } = await setup({ remindDaysBefore: 14 });
    const start = session.clock.now.getTime();
    await session.store.writeState('jwt', { lastRotatedAt: new Date(start - 70 * DAY).toISOString() });
    await sendReminders(session, [skipped('jwt', 'jwt')]);
    expect(hook.events()).toEqual([]); // due in 20 days: not yet

    session.clock.now = new Date(start + 10 * DAY); // due in 10 days
    await sendReminders(session, [skipped('jwt', 'jwt')]);
    expect(hook.events()).toHaveLength(1);
    expect(hook.events()[0]).toMatchObject({ event: 'due-soon', reminder: 'due-soon', secret: 'jwt', daysLeft: 10 });
    expect(hook.events()[0]!.text).toMatch(/^rotate: jwt \(jwt\) is due for rotation in 10 days, on \d{4}-\d{2}-\d{2}/);

    session.clock.now = new Date(start + 10 * DAY + 3_600_000); // an hour later, the same day
    await sendReminders(session, [skipped('jwt', 'jwt')]);
    expect(hook.events()).toHaveLength(1);

    session.clock.now = new Date(start + 11 * DAY); // the next day
    await sendReminders(session, [skipped('jwt', 'jwt')]);
    expect(hook.events()).toHaveLength(2);
    expect(hook.events()[1]).toMatchObject({ daysLeft: 9 });
  });

  it('remind a due secret that needs an operator, once a day, saying what to run', async () => {
    const { hook, session } = await setup();
    const needsOperator: SecretResult = {
      ...skipped('stripe', 'stripe'),
      status: 'needs-operator',
      note: 'roll the key in the Stripe Dashboard and hand it in.',
    };
    await sendReminders(session, [needsOperator]);
    await sendReminders(session, [needsOperator]);
    expect(hook.events()).toHaveLength(1);
    expect(hook.events()[0]).toMatchObject({ event: 'due-soon', reminder: 'needs-operator', secret: 'stripe' });
    expect(hook.events()[0]!.text).toContain('stripe is due (never rotated by rotate) and needs an operator on host');
    expect(hook.events()[0]!.text).toContain('Next: run `rotate stripe` at a terminal');
  });

  it('sends nothing when notify.on leaves out due-soon, and remembers nothing it could not deliver', async () => {
    const quiet = await setup({ on: ['failure'] });
    await sendReminders(quiet.session, [{ ...skipped('stripe', 'stripe'), status: 'needs-operator', note: 'x' }]);
    expect(quiet.hook.events()).toEqual([]);

    const { session } = await setup({ webhookUrl: 'http://127.0.0.1:9/hook' });
    await sendReminders(session, [{ ...skipped('stripe', 'stripe'), status: 'needs-operator', note: 'x' }]);
    expect((await session.store.readStates()).stripe?.reminded).toBeUndefined();
    expect(session.logged.some((m) => m.includes('could not deliver the due-soon notification'))).toBe(true);
  });

  it('a kind that needs an operator is reminded to be rotated at a terminal, not left to cron', async () => {
    const { hook, session } = await setup({}, { needsOperator: () => 'roll the key in the Dashboard' } as unknown as Rotator);
    await session.store.writeState('stripe', { lastRotatedAt: new Date(session.clock.now.getTime() - 85 * DAY).toISOString() });
    await sendReminders(session, [skipped('stripe', 'stripe')]);
    expect(hook.events()).toHaveLength(1);
    expect(hook.events()[0]).toMatchObject({ reminder: 'due-soon', secret: 'stripe', daysLeft: 5 });
    expect(hook.events()[0]!.text).toContain('it needs an operator: run `rotate stripe` at a terminal before then');
  });
});

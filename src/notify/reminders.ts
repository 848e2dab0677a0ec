import { schedules } from '../engine/due.js';
import type { SecretResult } from '../engine/result.js';
import type { Session } from '../engine/session.js';
import type { Lock } from '../store/types.js';
import { type Notice, sendNotice } from './send.js';

const DAY = 86_400_000;

interface Reminder {
  secret: string;
  /** `due-soon`: within notify.remindDaysBefore; `needs-operator`: due, and cron cannot rotate it alone. */
  reminder: 'due-soon' | 'needs-operator';
  notice: Notice;
}

/** What `--due` reminds of after its run: secrets coming due soon, and due ones that wait for an operator. */
async function remindersOf(session: Session, results: SecretResult[]): Promise<Reminder[]> {
  const now = session.deps.now();
  const host = session.deps.host;
  const reminders: Reminder[] = [];
  for (const { id, config, schedule: s } of await schedules(session)) {
    const result = results.find((r) => r.secret === id);
    const fields = { secret: id, kind: config.kind, host, lastRotatedAt: s.lastRotatedAt, nextDue: s.nextDue };
    if (result?.status === 'needs-operator') {
      const since = s.nextDue ? `due since ${s.nextDue.slice(0, 10)}` : 'due (never rotated by rotate)';
      reminders.push({
        secret: id,
        reminder: 'needs-operator',
        notice: {
          event: 'due-soon',
          reminder: 'needs-operator',
          ...fields,
          text: `rotate: ${id} is ${since} and needs an operator on ${host}: ${(result.note ?? '').replace(/[.\s]*$/, '.')} Next: run \`rotate ${id}\` at a terminal`,
        },
      });
      continue;
    }
    if (s.state !== 'ok' || !s.nextDue) continue;
    const daysLeft = Math.ceil((Date.parse(s.nextDue) - now.getTime()) / DAY);
    if (daysLeft > session.config.notify.remindDaysBefore) continue;
    // A kind that may need an operator (Stripe: a key rolled in its Dashboard) cannot be left to cron alone.
    const operator = (await session.deps.loadRotator(config.kind)).needsOperator !== undefined;
    const then = operator
      ? `it needs an operator: run \`rotate ${id}\` at a terminal before then`
      : `\`rotate --due\` on ${host} rotates it then`;
    reminders.push({
      secret: id,
      reminder: 'due-soon',
      notice: {
        event: 'due-soon',
        reminder: 'due-soon',
        ...fields,
        daysLeft,
        text:
          `rotate: ${id} (${config.kind}) is due for rotation in ${daysLeft} day${daysLeft === 1 ? '' : 's'}, on ${s.nextDue.slice(0, 10)} ` +
          `(every ${config.intervalDays} days); ${then}`,
      },
    });
  }
  return reminders;
}

/**
 * Posts the reminders `--due` owes, at most one per secret and kind a day (UTC): what was sent is remembered in the
 * secret's state. A reminder that cannot be delivered is tried again by the next run.
 */
export async function sendReminders(session: Session, results: SecretResult[]): Promise<void> {
  const notify = session.config.notify;
  if (!notify.webhookUrl || !notify.on.includes('due-soon')) return;
  const today = session.deps.now().toISOString().slice(0, 10);
  const states = await session.store.readStates();
  const owed = (await remindersOf(session, results)).filter(
    (r) => !(states[r.secret]?.reminded?.event === r.reminder && states[r.secret]?.reminded?.at.slice(0, 10) === today),
  );
  if (owed.length === 0) return;
  let lock: Lock;
  try {
    lock = await session.store.acquireLock('rotate --due (reminders)');
  } catch (error) {
    session.deps.log.warn(`reminders not sent this time: ${(error as Error).message}`);
    return;
  }
  try {
    for (const reminder of owed) {
      if (!(await sendNotice(notify, session.deps, reminder.notice))) continue;
      const state = (await session.store.readStates())[reminder.secret] ?? {};
      await session.store.writeState(reminder.secret, {
        ...state,
        reminded: { at: session.deps.now().toISOString(), event: reminder.reminder },
      });
    }
  } finally {
    await lock.release();
  }
}

import * as z from 'zod/mini';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$/;

const isTimeZone = (name: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
};

const toMinutes = (hh: string, mm: string): number => Number(hh) * 60 + Number(mm);

function parseHours(hours: string): { start: number; end: number } | undefined {
  const m = HOURS.exec(hours);
  if (!m) return undefined;
  const start = toMinutes(m[1]!, m[2]!);
  const end = toMinutes(m[3]!, m[4]!);
  if (end > 24 * 60 || start === end) return undefined;
  return { start, end };
}

/** `window` at the top level or per secret: when `--due` may rotate (CONTRACT.md, "Operations signals"). */
export const windowSchema = z.strictObject({
  /** Days the window opens on (a window crossing midnight closes the next morning); default every day. */
  days: z.optional(z.array(z.enum(WEEKDAYS, { error: `expected a day: ${WEEKDAYS.join(', ')}` })).check(z.minLength(1))),
  hours: z
    .string()
    .check(
      z.refine(
        (hours) => parseHours(hours) !== undefined,
        'expected hours as HH:MM-HH:MM in 24-hour time, start and end different (it may cross midnight: 22:00-04:00)',
      ),
    ),
  timezone: z._default(z.string().check(z.refine(isTimeZone, 'expected an IANA time zone such as Europe/Berlin or UTC')), 'UTC'),
});
export type RotationWindow = z.output<typeof windowSchema>;

/** The weekday and minute of the day that a clock in `timeZone` shows at `now`. */
export function localTime(now: Date, timeZone: string): { day: Weekday; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: part('weekday').toLowerCase().slice(0, 3) as Weekday, minutes: Number(part('hour')) * 60 + Number(part('minute')) };
}

const previousDay = (day: Weekday): Weekday => WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;

/**
 * Whether `now` falls in the window. `days` name the day a window opens: with `22:00-04:00` and `days: ["fri"]`,
 * Friday 23:00 and Saturday 03:00 are inside, Friday 03:00 is not.
 */
export function isInsideWindow(window: RotationWindow, now: Date): boolean {
  const hours = parseHours(window.hours);
  if (!hours) return false;
  const { day, minutes } = localTime(now, window.timezone);
  const opensOn = (d: Weekday) => !window.days || window.days.includes(d);
  if (hours.start < hours.end) return opensOn(day) && minutes >= hours.start && minutes < hours.end;
  if (minutes >= hours.start) return opensOn(day);
  return minutes < hours.end && opensOn(previousDay(day));
}

/** "02:00-05:00 Europe/Berlin, mon, tue": the window as people read it. */
export function describeWindow(window: RotationWindow): string {
  return `${window.hours} ${window.timezone}${window.days ? `, ${window.days.join(', ')}` : ''}`;
}

/** The window that holds `--due` back from this secret now (its own, else the top-level one), or undefined. */
export function closedWindow(
  topLevel: RotationWindow | undefined,
  secret: { window?: RotationWindow | undefined },
  now: Date,
): RotationWindow | undefined {
  const window = secret.window ?? topLevel;
  return window && !isInsideWindow(window, now) ? window : undefined;
}

// terminal/time.ts names the zone of a local time without ICU for UTC (ICU's first formatter costs ~12 ms of start-up);
// every zone must still get the name ICU gives it.
import { afterEach, describe, expect, it } from 'vitest';
import { localTime } from '../../src/terminal/time.js';

const saved = process.env.TZ;
afterEach(() => {
  if (saved === undefined) delete process.env.TZ;
  else process.env.TZ = saved;
});

/** The zone as ICU names it (en-GB, else en-US, when that is an abbreviation), else the offset: what status prints. */
function icuZone(date: Date): string {
  for (const locale of ['en-GB', 'en-US']) {
    const name = new Intl.DateTimeFormat(locale, { timeZoneName: 'short' })
      .formatToParts(date)
      .find((p) => p.type === 'timeZoneName')?.value;
    if (name && /^[A-Z]{2,5}$/.test(name)) return name;
  }
  const offset = -date.getTimezoneOffset();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

describe('localTime names the zone', () => {
  it('as ICU does, in every zone, in winter, in summer and in 1970 (UTC without ICU)', () => {
    const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Zulu', 'Europe/London'];
    const dates = ['2026-01-15T12:00:00Z', '2026-07-15T12:00:00Z', '1970-01-01T00:00:00Z'];
    const wrong: string[] = [];
    for (const zone of zones) {
      process.env.TZ = zone;
      for (const iso of dates) {
        const date = new Date(iso);
        const expected = icuZone(date);
        const got = localTime(iso).split(' ').at(-1);
        if (got !== expected) wrong.push(`${zone} ${iso}: ${got}, ICU says ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('in UTC and in a zone ICU names (CET, CEST), and by offset where it has no abbreviation', () => {
    process.env.TZ = 'UTC';
    expect(localTime('2026-12-02T14:03:27Z', { seconds: true })).toBe('2026-12-02 14:03:27 UTC');
    process.env.TZ = 'Europe/Berlin';
    expect(localTime('2026-12-02T14:03:27Z')).toBe('2026-12-02 15:03 CET');
    expect(localTime('2026-07-02T14:03:27Z')).toBe('2026-07-02 16:03 CEST');
    process.env.TZ = 'Asia/Kolkata';
    expect(localTime('2026-12-02T14:03:27Z')).toBe('2026-12-02 19:33 +05:30');
  });
});

import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { closedWindow, isInsideWindow, localTime, windowSchema } from '../../src/schedule/window.js';

const at = (iso: string) => new Date(iso);
const parse = (window: unknown) => windowSchema.parse(window);

describe('rotation windows', () => {
  it('reads the local weekday and time of an IANA zone, across daylight saving', () => {
    // 2026-03-29 is the night Europe/Berlin moves from UTC+1 to UTC+2.
    expect(localTime(at('2026-03-29T00:30:00Z'), 'Europe/Berlin')).toEqual({ day: 'sun', minutes: 90 });
    expect(localTime(at('2026-03-29T01:30:00Z'), 'Europe/Berlin')).toEqual({ day: 'sun', minutes: 3 * 60 + 30 });
    expect(localTime(at('2026-12-01T23:59:00Z'), 'UTC')).toEqual({ day: 'tue', minutes: 23 * 60 + 59 });
    expect(localTime(at('2026-12-01T23:59:00Z'), 'Asia/Tokyo')).toEqual({ day: 'wed', minutes: 8 * 60 + 59 });
  });

  it('holds a same-day window: start inclusive, end exclusive, in its own zone', () => {
    const window = parse({ hours: '02:00-05:00', timezone: 'Europe/Berlin' });
    expect(isInsideWindow(window, at('2026-12-01T00:59:00Z'))).toBe(false); // 01:59 Berlin
    expect(isInsideWindow(window, at('2026-12-01T01:00:00Z'))).toBe(true); // 02:00
    expect(isInsideWindow(window, at('2026-12-01T03:59:00Z'))).toBe(true); // 04:59
    expect(isInsideWindow(window, at('2026-12-01T04:00:00Z'))).toBe(false); // 05:00
    expect(isInsideWindow(window, at('2026-12-01T02:00:00Z'))).toBe(true);
  });

  it('a window crossing midnight belongs to the day it opens on', () => {
    const window = parse({ days: ['fri'], hours: '22:00-04:00', timezone: 'UTC' });
    expect(isInsideWindow(window, at('2026-12-04T23:00:00Z'))).toBe(true); // Friday 23:00
    expect(isInsideWindow(window, at('2026-12-05T03:00:00Z'))).toBe(true); // Saturday 03:00: Friday's window
    expect(isInsideWindow(window, at('2026-12-05T04:00:00Z'))).toBe(false);
    expect(isInsideWindow(window, at('2026-12-04T03:00:00Z'))).toBe(false); // Friday 03:00: Thursday's window
    expect(isInsideWindow(window, at('2026-12-05T23:00:00Z'))).toBe(false); // Saturday 23:00
    expect(isInsideWindow(window, at('2026-12-04T21:59:00Z'))).toBe(false);
  });

  it('days restrict a same-day window; no days means every day', () => {
    const weekdays = parse({ days: ['mon', 'tue', 'wed', 'thu'], hours: '00:00-24:00', timezone: 'America/New_York' });
    expect(isInsideWindow(weekdays, at('2026-12-01T12:00:00Z'))).toBe(true); // Tuesday in New York
    expect(isInsideWindow(weekdays, at('2026-12-05T12:00:00Z'))).toBe(false); // Saturday
    expect(isInsideWindow(parse({ hours: '10:00-11:00' }), at('2026-12-05T10:30:00Z'))).toBe(true); // UTC by default
  });

  it.each([
    [{ hours: '2:00-05:00', timezone: 'UTC' }, 'window.hours'],
    [{ hours: '02:00-25:00', timezone: 'UTC' }, 'window.hours'],
    [{ hours: '03:00-03:00', timezone: 'UTC' }, 'window.hours'],
    [{ hours: '02:00 05:00', timezone: 'UTC' }, 'window.hours'],
    [{ hours: '02:00-05:00', timezone: 'Mars/Olympus' }, 'window.timezone'],
    [{ hours: '02:00-05:00', timezone: 'UTC', days: ['monday'] }, 'window.days.0'],
    [{ hours: '02:00-05:00', timezone: 'UTC', when: 'always' }, 'window'],
  ])('refuses %j at its config path', (window, path) => {
    const result = configSchema.safeParse({ window });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(paths).toContain(path);
    const perSecret = configSchema.safeParse({ secrets: { jwt: { window } } });
    expect(perSecret.error!.issues.map((issue) => issue.path.join('.'))).toContain(path.replace(/^window/, 'secrets.jwt.window'));
  });

  it("a secret's own window wins over the top-level one; no window never holds anything back", () => {
    const night = parse({ hours: '02:00-05:00' });
    const noon = parse({ hours: '11:00-13:00' });
    const at3 = at('2026-12-01T03:00:00Z');
    expect(closedWindow(night, {}, at3)).toBeUndefined();
    expect(closedWindow(night, { window: noon }, at3)).toBe(noon);
    expect(closedWindow(noon, { window: night }, at3)).toBeUndefined();
    expect(closedWindow(undefined, {}, at3)).toBeUndefined();
  });
});

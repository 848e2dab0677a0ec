// Times as a person at this terminal reads them: the local time zone (TZ, else the system's), with the zone named.
// JSON output keeps ISO 8601 in UTC; only the human renderers call these.

const pad = (n: number): string => String(n).padStart(2, '0');

// ICU's locale data costs about 12 ms of CPU the first time any Intl formatter is made (Node 20 to 24), as much as
// half of Node's own start-up: made once per zone (TZ), on the first time printed outside UTC.
const shortZoneNames = new Map<string, Intl.DateTimeFormat>();
const shortZoneName = (locale: string, date: Date): string | undefined => {
  const key = `${locale} ${process.env.TZ ?? ''}`;
  let format = shortZoneNames.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { timeZoneName: 'short' });
    shortZoneNames.set(key, format);
  }
  return format.formatToParts(date).find((part) => part.type === 'timeZoneName')?.value;
};

/** The zone's abbreviation when the platform has a real one (CET, EST, UTC), else the offset (+05:30). */
function zoneOf(date: Date): string {
  // UTC, most servers' zone, without ICU: Date's own text names it (and ICU calls it UTC in both locales).
  if (date.getTimezoneOffset() === 0 && date.toString().endsWith('(Coordinated Universal Time)')) return 'UTC';
  for (const locale of ['en-GB', 'en-US']) {
    const name = shortZoneName(locale, date);
    if (name && /^[A-Z]{2,5}$/.test(name)) return name;
  }
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  return `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

const parse = (when: string | Date): Date | undefined => {
  const date = typeof when === 'string' ? new Date(when) : when;
  return Number.isNaN(date.getTime()) ? undefined : date;
};

/** `2026-12-02` in the local zone. */
export function localDate(when: string | Date): string {
  const date = parse(when);
  if (!date) return String(when);
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** `2026-12-02 14:03 CET` (with `seconds`: `14:03:27`) in the local zone; text that is not a time is left as it is. */
export function localTime(when: string | Date, options: { seconds?: boolean } = {}): string {
  const date = parse(when);
  if (!date) return String(when);
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}${options.seconds ? `:${pad(date.getSeconds())}` : ''}`;
  return `${localDate(date)} ${clock} ${zoneOf(date)}`;
}

// The sentence a person reads about a drifted secret: where, since when (local time with its zone, as every other
// time a person reads), and what to do; never a value or a fingerprint.
import { expect, it } from 'vitest';
import { driftText } from '../../src/monitoring/drift.js';
import { localTime } from '../../src/terminal/time.js';

it('names the key, the places and the local time of the recorded rotation, and the two fixes', () => {
  const since = '2026-12-08T01:39:47.062Z';
  const text = driftText('jwt', { where: ['/srv/app/.env', 'Secret app/app-secrets'], since, found: 'abc123' }, 'JWT_SECRET');
  expect(text).toContain(
    `JWT_SECRET in /srv/app/.env and Secret app/app-secrets no longer holds the value rotate recorded at ${localTime(since)} `,
  );
  expect(text).not.toContain('2026-12-08T01:39');
  expect(text).not.toContain('abc123');
  expect(text).toContain('`rotate jwt`');
  expect(text).toContain('`rotate mark jwt --rotated-at <date>`');
});

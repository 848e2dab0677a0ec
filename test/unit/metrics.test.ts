import { describe, expect, it } from 'vitest';
import { escapeLabelValue, metricsText } from '../../src/monitoring/exposition.js';
import type { SecretHealth } from '../../src/monitoring/health.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';

const health = (over: Partial<SecretHealth>): SecretHealth => ({
  secret: 'jwt',
  kind: 'jwt',
  intervalDays: 90,
  state: 'ok',
  lastRotatedAt: '2026-11-01T00:00:00.000Z',
  nextDue: '2027-01-30T00:00:00.000Z',
  graceUntil: null,
  unapplied: null,
  overdue: false,
  lastRun: null,
  lastRunOk: true,
  notApplied: false,
  needsPerson: false,
  drifted: false,
  drift: null,
  notConverged: false,
  unreadable: [],
  key: 'JWT_SECRET',
  ...over,
});

describe('rotate metrics exposition', () => {
  it('is valid text exposition: HELP and TYPE per family, one gauge per secret with secret and kind labels', () => {
    const text = metricsText([
      health({}),
      health({
        secret: 'database',
        kind: 'postgres',
        state: 'never-rotated',
        lastRotatedAt: null,
        nextDue: null,
        overdue: true,
        lastRunOk: false,
        notApplied: true,
        needsPerson: true,
        drifted: true,
        notConverged: true,
      }),
    ]);
    const families = parsePrometheusText(text);
    expect([...families.keys()]).toEqual([
      'rotate_secret_last_rotation_timestamp_seconds',
      'rotate_secret_next_due_timestamp_seconds',
      'rotate_secret_overdue',
      'rotate_secret_last_run_ok',
      'rotate_secret_not_applied',
      'rotate_secret_needs_person',
      'rotate_secret_drifted',
      'rotate_secret_not_converged',
    ]);
    for (const family of families.values()) {
      expect(family.type).toBe('gauge');
      expect(family.help).toBeTruthy();
      expect(family.samples.map((s) => s.labels)).toEqual([
        { secret: 'jwt', kind: 'jwt' },
        { secret: 'database', kind: 'postgres' },
      ]);
    }
    const value = (name: string, secret: string) => families.get(name)!.samples.find((s) => s.labels.secret === secret)!.value;
    expect(value('rotate_secret_last_rotation_timestamp_seconds', 'jwt')).toBe(Date.parse('2026-11-01T00:00:00Z') / 1000);
    expect(value('rotate_secret_next_due_timestamp_seconds', 'jwt')).toBe(Date.parse('2027-01-30T00:00:00Z') / 1000);
    expect(value('rotate_secret_overdue', 'jwt')).toBe(0);
    expect(value('rotate_secret_overdue', 'database')).toBe(1);
    expect(value('rotate_secret_last_run_ok', 'database')).toBe(0);
    expect(value('rotate_secret_needs_person', 'database')).toBe(1);
    expect(value('rotate_secret_drifted', 'jwt')).toBe(0);
    expect(value('rotate_secret_drifted', 'database')).toBe(1);
    expect(value('rotate_secret_not_converged', 'jwt')).toBe(0);
    expect(value('rotate_secret_not_converged', 'database')).toBe(1);
    expect(value('rotate_secret_not_applied', 'jwt')).toBe(0);
    expect(value('rotate_secret_not_applied', 'database')).toBe(1);
    expect(value('rotate_secret_last_rotation_timestamp_seconds', 'database')).toBe(0);
  });

  it('escapes label values so that any text reads back as itself', () => {
    const hostile = 'a"b\\c\nd}e,f="g';
    const families = parsePrometheusText(metricsText([health({ secret: hostile, kind: '\\"' })]));
    expect(families.get('rotate_secret_overdue')!.samples[0]!.labels).toEqual({ secret: hostile, kind: '\\"' });
    expect(escapeLabelValue('x\\"\n')).toBe('x\\\\\\"\\n');
  });

  it('the test parser is strict: it refuses what Prometheus refuses', () => {
    expect(() => parsePrometheusText('m{a="x\\q"} 1\n')).toThrow(/bad escape/);
    expect(() => parsePrometheusText('m{a="x"} one\n')).toThrow(/bad value/);
    expect(() => parsePrometheusText('m 1\nn 1\nm 2\n')).toThrow(/not contiguous/);
    expect(() => parsePrometheusText('m 1\n# TYPE m gauge\n')).toThrow(/TYPE after samples/);
    expect(() => parsePrometheusText('m{a="x"} 1\nm{a="x"} 2\n')).toThrow(/duplicate series/);
    expect(() => parsePrometheusText('m 1')).toThrow(/line feed/);
    expect(() => parsePrometheusText('1m 1\n')).toThrow(/metric name/);
  });
});

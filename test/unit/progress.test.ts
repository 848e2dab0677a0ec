// Long work off a terminal (cron, CI, kubectl logs): a line when it starts, at least every 10 seconds with rows done,
// rate and time left, and when it ends. A fake clock and timer drive it: no waiting.
import { describe, expect, it } from 'vitest';
import { duration, lineProgress, PROGRESS_LINE_MS, progressLine } from '../../src/terminal/progress.js';

function fakeDeps() {
  const lines: string[] = [];
  let now = 0;
  let callback: (() => void) | undefined;
  let cleared = false;
  return {
    lines,
    setNow: (ms: number) => {
      now = ms;
    },
    fire: () => {
      if (!cleared) callback?.();
    },
    get cleared() {
      return cleared;
    },
    deps: {
      write: (line: string) => lines.push(line),
      now: () => now,
      setInterval: (cb: () => void, ms: number) => {
        expect(ms).toBe(PROGRESS_LINE_MS);
        expect(PROGRESS_LINE_MS).toBeLessThanOrEqual(10_000);
        callback = cb;
        return 1;
      },
      clearInterval: () => {
        cleared = true;
      },
    },
  };
}

describe('progress off a terminal', () => {
  it('says when it starts, every interval with rows, rate and time left, and when it ends', () => {
    const clock = fakeDeps();
    const progress = lineProgress('re-encrypting exchange_api_keys', 1_000_000, clock.deps);
    expect(clock.lines).toEqual(['re-encrypting exchange_api_keys: started, about 1,000,000 rows']);
    progress.tick(40_000);
    clock.setNow(10_000);
    clock.fire();
    expect(clock.lines[1]).toBe(
      're-encrypting exchange_api_keys: 40,000 of about 1,000,000 rows (4%) in 10s, 4,000 rows/s, about 4m 00s left',
    );
    progress.tick(80_000);
    clock.setNow(20_000);
    clock.fire();
    expect(clock.lines[2]).toBe(
      're-encrypting exchange_api_keys: 120,000 of about 1,000,000 rows (12%) in 20s, 6,000 rows/s, about 2m 27s left',
    );
    progress.tick(880_000);
    clock.setNow(125_000);
    progress.done();
    expect(clock.lines.at(-1)).toBe('re-encrypting exchange_api_keys: 1,000,000 rows in 2m 05s');
    expect(clock.cleared).toBe(true);
    progress.done();
    expect(clock.lines).toHaveLength(4);
  });

  it('a line comes from the timer even while one batch takes longer than the interval', () => {
    const clock = fakeDeps();
    lineProgress('test-decrypting exchange_api_keys', 0, clock.deps);
    clock.setNow(10_000);
    clock.fire();
    clock.setNow(20_000);
    clock.fire();
    expect(clock.lines.slice(1)).toEqual([
      'test-decrypting exchange_api_keys: 0 rows in 10s, 0 rows/s',
      'test-decrypting exchange_api_keys: 0 rows in 20s, 0 rows/s',
    ]);
  });

  it('an estimate below the rows done drops the percentage and the time left, never shows more than 100%', () => {
    expect(progressLine('x', 1500, 1000, 3000)).toBe('x: 1,500 of about 1,000 rows in 3s, 500 rows/s');
  });

  it('durations read as a person writes them', () => {
    expect([duration(400), duration(42_000), duration(65_000), duration(3_720_000)]).toEqual(['0s', '42s', '1m 05s', '1h 02m']);
  });
});

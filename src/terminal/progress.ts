import type { Progress } from '../core-types.js';

/** Off a terminal (cron, CI, `kubectl logs`) a line at least this often while rows are being walked. */
export const PROGRESS_LINE_MS = 10_000;

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** `1m 05s`, `42s`, `1h 02m`. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * One progress line for a log: rows done of the estimate (the planner's, so "about"), elapsed, rate and time left.
 * `re-encrypting exchange_api_keys: 120,000 of about 1,000,000 rows (12%) in 30s, 4,000 rows/s, about 3m 40s left`
 */
export function progressLine(label: string, done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const parts = [`${label}: ${count(done)}${total > 0 ? ` of about ${count(total)}` : ''} rows`];
  if (total > 0 && done <= total) parts[0] += ` (${Math.floor((done / total) * 100)}%)`;
  parts[0] += ` in ${duration(elapsedMs)}`;
  if (elapsedMs >= 1000) parts.push(`${count(rate)} rows/s`);
  if (total > done && rate > 0) parts.push(`about ${duration(((total - done) / rate) * 1000)} left`);
  return parts.join(', ');
}

export interface LineProgressDeps {
  write(line: string): void;
  now(): number;
  setInterval(callback: () => void, ms: number): { unref?(): void } | number;
  clearInterval(handle: unknown): void;
}

const processLineDeps: LineProgressDeps = {
  write: (line) => process.stderr.write(`${line}\n`),
  now: () => Date.now(),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * Progress as log lines: one when the walk starts, one every PROGRESS_LINE_MS (from a timer, so a slow batch still
 * gets its line), one when it ends. For stderr that is not a terminal, where a redrawn bar would be noise.
 */
export function lineProgress(label: string, total: number, deps: LineProgressDeps = processLineDeps): Progress {
  const started = deps.now();
  let rows = 0;
  let finished = false;
  deps.write(`${label}: started${total > 0 ? `, about ${count(total)} rows` : ''}`);
  const timer = deps.setInterval(() => deps.write(progressLine(label, rows, total, deps.now() - started)), PROGRESS_LINE_MS);
  if (typeof timer === 'object') timer.unref?.();
  return {
    tick: (n) => {
      rows += n;
    },
    done: () => {
      if (finished) return;
      finished = true;
      deps.clearInterval(timer);
      deps.write(`${label}: ${count(rows)} rows in ${duration(deps.now() - started)}`);
    },
  };
}

/** A bar with rows/s on a terminal (stderr); log lines elsewhere (lineProgress); nothing with --quiet. */
export function createProgress(enabled: boolean): (label: string, total: number) => Progress {
  return (label, total) => {
    if (!enabled) return { tick: () => {}, done: () => {} };
    if (!process.stderr.isTTY) return lineProgress(label, total);
    let bar: import('cli-progress').SingleBar | undefined;
    let pending = 0;
    const ready = import('cli-progress').then(({ default: cli }) => {
      bar = new cli.SingleBar(
        {
          format: `${label} [{bar}] {percentage}% {value}/{total} rows {speed} rows/s eta {eta}s`,
          stream: process.stderr,
          hideCursor: true,
        },
        cli.Presets.shades_classic,
      );
      bar.start(total, pending, { speed: 0 });
    });
    const started = Date.now();
    let count = 0;
    return {
      tick: (n) => {
        count += n;
        if (!bar) {
          pending = count;
          return;
        }
        const seconds = (Date.now() - started) / 1000;
        bar.update(count, { speed: seconds > 0 ? Math.round(count / seconds) : 0 });
      },
      done: () => {
        void ready.then(() => bar?.stop());
      },
    };
  };
}

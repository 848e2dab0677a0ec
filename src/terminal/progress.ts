import type { Progress } from '../core-types.js';

/** A bar with rows/s on a TTY (stderr); nothing elsewhere, so CI logs stay clean. */
export function createProgress(enabled: boolean): (label: string, total: number) => Progress {
  return (label, total) => {
    if (!enabled || !process.stderr.isTTY) return { tick: () => {}, done: () => {} };
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

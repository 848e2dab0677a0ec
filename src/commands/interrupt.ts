import { ExitCode } from '../errors.js';

/**
 * SIGINT/SIGTERM. While a command changes something (it holds the rotation lock: `whileChanging`), the first signal
 * asks the run to stop at its next safe point (the engine sees `stop` between steps, and the restart command it
 * started is ended); the second forces the exit at once, as CLI users expect. Outside such work (a dry run, verify,
 * status, history: reading only, or a run before it takes the lock) there is no safe point to wait for: the first
 * signal ends the command at once. After changing work (its notifications, its report) the first signal waits too.
 */
const controller = new AbortController();

/** What the engine's deps carry (EngineDeps.stop). */
export const stopSignal: AbortSignal = controller.signal;

/** Set once work that changes something has started: from then on a signal never claims that nothing changed. */
let changed = false;
let stopNow: ((signal: NodeJS.Signals) => void) | undefined;

/** Runs `work`, which changes what rotate manages: from its start on, a signal waits for a safe point. */
export async function whileChanging<T>(work: () => Promise<T>): Promise<T> {
  changed = true;
  return work();
}

function onSignal(signal: NodeJS.Signals): void {
  if (controller.signal.aborted) {
    process.stderr.write(
      `\n[INTERRUPTED] forced to stop by a second ${signal}; \`rotate status\` shows whether a run was left pending, \`rotate resume\` finishes or undoes it\n`,
    );
    process.exit(ExitCode.needsPerson);
  }
  if (!changed && stopNow) {
    stopNow(signal);
    return;
  }
  process.stderr.write(`\n${signal}: stopping at the next safe point (send it again to force the exit)\n`);
  controller.abort(signal);
}

/** `reportNow` reports a signal that came while nothing was being changed and ends the process. */
export function installInterruptHandler(reportNow?: (signal: NodeJS.Signals) => void): void {
  stopNow = reportNow;
  // Ours first, then the bin's go: a signal never finds no listener (Node's default would end the process unreported).
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const held = (globalThis as Record<symbol, HeldSignals | undefined>)[HELD_SIGNALS];
  if (!held) return;
  process.off('SIGINT', held.hold);
  process.off('SIGTERM', held.hold);
  for (const signal of held.signals.splice(0)) onSignal(signal);
}

/** What the bin (scripts/rotate-bin.cjs) keeps of the signals that came before this module loaded. */
interface HeldSignals {
  signals: NodeJS.Signals[];
  hold: (signal: NodeJS.Signals) => void;
}

const HELD_SIGNALS = Symbol.for('rotate.held-signals');

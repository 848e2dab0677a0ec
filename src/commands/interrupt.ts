import { ExitCode } from '../errors.js';

/**
 * SIGINT/SIGTERM. While a command changes something (it holds the rotation lock: `whileChanging`), the first signal
 * asks the run to stop at its next safe point (the engine sees `stop` between steps, a step that can stops early, and
 * the restart command it started is ended) and says at once what will happen, in the engine's words (describeStop);
 * the second forces the exit at once, as CLI users expect. Outside such work (a dry run, verify,
 * status, history: reading only, or a run before it takes the lock) there is no safe point to wait for: the first
 * signal ends the command at once. After changing work (its notifications, its report) the first signal waits too.
 */
const controller = new AbortController();

/** What the engine's deps carry (EngineDeps.stop). */
export const stopSignal: AbortSignal = controller.signal;

/** Set once work that changes something has started: from then on a signal never claims that nothing changed. */
let changed = false;
let stopNow: ((signal: NodeJS.Signals) => void) | undefined;

/** What the engine says a stop would do now (EngineDeps.describeStop), latest first. */
const describers: (() => string | undefined)[] = [];

/** EngineDeps.describeStop: `describe` is asked first until the function returned takes it back. */
export function describeStop(describe: () => string | undefined): () => void {
  describers.push(describe);
  return () => {
    const at = describers.lastIndexOf(describe);
    if (at >= 0) describers.splice(at, 1);
  };
}

/**
 * The line that acknowledges the first signal, at once: what rotate does now (the engine's words: the step it stops
 * after, what `rotate resume` will then do) and what a second signal does.
 */
export function stopAcknowledgement(signal: NodeJS.Signals, what: string | undefined): string {
  const again = signal === 'SIGINT' ? 'press Ctrl-C again' : `send ${signal} again`;
  return (
    `${signal}: ${what ?? 'stopping at the next safe point'}. ` +
    `To exit at once, ${again} (exit 3: a run it was changing is left pending as it stands; \`rotate status\` shows it)`
  );
}

const currentDescription = (): string | undefined => {
  for (const describe of [...describers].reverse()) {
    const what = describe();
    if (what) return what;
  }
  return undefined;
};

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
  // Said before the abort: its listeners (a restart command ended, a pass that stops) may print their own lines.
  process.stderr.write(`\n${stopAcknowledgement(signal, currentDescription())}\n`);
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

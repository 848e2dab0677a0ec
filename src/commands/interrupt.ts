import { ExitCode } from '../errors.js';

/**
 * SIGINT/SIGTERM: the first asks the run to stop at its next safe point (the engine sees `stop` between steps, and
 * the restart command it started is ended); the second forces the exit at once, as CLI users expect.
 */
const controller = new AbortController();

/** What the engine's deps carry (EngineDeps.stop). */
export const stopSignal: AbortSignal = controller.signal;

function onSignal(signal: NodeJS.Signals): void {
  if (controller.signal.aborted) {
    process.stderr.write(
      `\n[INTERRUPTED] forced to stop by a second ${signal}; \`rotate status\` shows whether a run was left pending, \`rotate resume\` finishes or undoes it\n`,
    );
    process.exit(ExitCode.needsPerson);
  }
  process.stderr.write(`\n${signal}: stopping at the next safe point (send it again to force the exit)\n`);
  controller.abort(signal);
}

export function installInterruptHandler(): void {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

import { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { redact } from '../secret-value.js';
import { defineCommand, type GlobalOptions, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { withSession } from './session.js';

export const metricsCommand = defineCommand(
  () => new Command('metrics').description("Prometheus text exposition of every secret's state, for a textfile collector"),
  globalOptionsSchema,
  metrics,
);

/**
 * `rotate metrics`: every secret's state as Prometheus gauges on stdout, for node_exporter's textfile collector or
 * a push gateway. Reads the store without taking the lock, so it runs beside a rotation. Secrets that are not in
 * the env file are left out: there is nothing of theirs to rotate.
 */
async function metrics(options: GlobalOptions): Promise<number> {
  const [{ metricsText }, { reportedState, secretHealth }, { fleetHealth, fleetMetricsText }] = await Promise.all([
    import('../monitoring/exposition.js'),
    import('../monitoring/health.js'),
    import('../monitoring/fleet.js'),
  ]);
  return withSession(options, {}, async (session) => {
    const health = (await secretHealth(session)).filter((h) => h.state !== 'absent');
    // --json says each secret's state as status does (drifted, unreadable); the gauges carry each fact on its own.
    const fleet = await fleetHealth(session);
    if (options.json)
      return printResult(
        options,
        'metrics',
        ExitCode.ok,
        { results: health.map((h) => ({ ...h, state: reportedState(h), scheduleState: h.state })), ...(fleet.length ? { fleet } : {}) },
        () => '',
      );
    // The exposition goes out as is: printStdout would add a second final line feed.
    process.stdout.write(redact(metricsText(health) + fleetMetricsText(fleet)));
    return ExitCode.ok;
  });
}

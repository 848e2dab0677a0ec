import * as z from 'zod/mini';
import { isDue, schedule } from '../engine/due.js';
import { retirePending, rotateSecret } from '../engine/pipeline.js';
import { planSecret } from '../engine/plan.js';
import { exitCodeOf, type SecretResult } from '../engine/result.js';
import type { Session } from '../engine/session.js';
import { readEnvFile } from '../envfile/file.js';
import { usageError } from '../errors.js';
import { confirm } from '../terminal/confirm.js';
import { jsonDocument, printStdout, renderResults } from '../terminal/render.js';
import { assertNoPendingRun, globalOptionsSchema, openSession, parseOptions, resolveSecretIds } from './session.js';

const optionsSchema = z.extend(globalOptionsSchema, {
  due: z._default(z.boolean(), false),
  all: z._default(z.boolean(), false),
  dryRun: z._default(z.boolean(), false),
  yes: z._default(z.boolean(), false),
  restart: z._default(z.boolean(), true),
  emergency: z._default(z.boolean(), false),
  reason: z.optional(z.string().check(z.minLength(1))),
  allowUnpersisted: z._default(z.boolean(), false),
});

interface Selection {
  /** Secrets whose grace period has ended: their old value is retired. */
  retire: string[];
  rotate: string[];
  skipped: SecretResult[];
}

async function select(session: Session, names: string[], options: z.output<typeof optionsSchema>): Promise<Selection> {
  const chosen = [names.length > 0, options.due, options.all].filter(Boolean).length;
  if (chosen !== 1) {
    throw usageError(
      'USAGE',
      'name the secrets to rotate, or give --due or --all (exactly one of these)',
      'rotate jwt | rotate --due | rotate --all; rotate status lists the secrets',
    );
  }
  if (names.length > 0) return { retire: [], rotate: resolveSecretIds(session, names), skipped: [] };
  const [states, journals, env] = await Promise.all([
    session.store.readStates(),
    session.store.readJournals(),
    readEnvFile(session.envFile),
  ]);
  const selection: Selection = { retire: [], rotate: [], skipped: [] };
  for (const [id, config] of Object.entries(session.config.secrets)) {
    const s = schedule(
      config,
      states[id],
      journals.find((j) => j.secret === id),
      env.values,
      session.deps.now(),
    );
    const skip = (note: string) =>
      selection.skipped.push({ secret: id, kind: config.kind, status: 'skipped', note, checks: [], facts: {}, envKeys: [], steps: [] });
    if (s.state === 'retire-due') selection.retire.push(id);
    else if (s.state === 'absent') skip(`not in ${session.envFile}`);
    else if (options.all || isDue(s)) selection.rotate.push(id);
    else skip(s.nextDue ? `not due until ${s.nextDue}` : 'not due');
  }
  return selection;
}

export async function rotateCommand(names: string[], raw: unknown): Promise<number> {
  const options = parseOptions(optionsSchema, raw);
  if (options.emergency && !options.reason) {
    throw usageError(
      'USAGE',
      '--emergency needs --reason <text>',
      'say why, for the audit log: --emergency --reason "key leaked in CI log"',
    );
  }
  const session = await openSession(options, {
    restart: options.restart,
    emergency: options.emergency,
    ...(options.reason ? { reason: options.reason } : {}),
    unattended: options.due,
    allowUnpersisted: options.allowUnpersisted,
  });
  try {
    const selection = await select(session, names, options);
    let results: SecretResult[];
    if (options.dryRun) {
      results = [...selection.skipped];
      for (const id of [...selection.retire, ...selection.rotate]) results.push(await planSecret(session, id));
    } else {
      results = await execute(session, selection, options.yes);
    }
    // One order for people and machines alike: the config's.
    const order = Object.keys(session.config.secrets);
    results.sort((a, b) => order.indexOf(a.secret) - order.indexOf(b.secret));
    const code = exitCodeOf(results);
    if (options.json) printStdout(jsonDocument('rotate', code, { dryRun: options.dryRun, results }));
    else if (!options.quiet || code !== 0) printStdout(renderResults(results, session.deps.environment) || 'nothing to do');
    return code;
  } finally {
    await session.store.close();
  }
}

async function execute(session: Session, selection: Selection, yes: boolean): Promise<SecretResult[]> {
  const results = [...selection.skipped];
  if (selection.retire.length + selection.rotate.length === 0) return results;
  const lock = await session.store.acquireLock(`rotate ${selection.rotate.join(' ')}`.trim());
  try {
    await assertNoPendingRun(session);
    if (!yes && selection.rotate.length > 0) {
      const services = [
        ...new Set(selection.rotate.flatMap((id) => (session.options.restart ? session.config.secrets[id]!.services : []))),
      ];
      const restarts = services.length ? `restarts ${services.join(', ')}` : 'restarts no service';
      await confirm(`Rotate ${selection.rotate.join(', ')} now? This writes ${session.envFile}, ${restarts} and retires the old values.`);
    }
    for (const id of selection.retire) results.push(await retirePending(session, id));
    for (const id of selection.rotate) {
      const result = await rotateSecret(session, id);
      results.push(result);
      // A rollback that failed leaves a pending run: stop before touching anything else.
      if (result.status === 'rollback-failed') break;
    }
  } finally {
    await lock.release();
  }
  return results;
}

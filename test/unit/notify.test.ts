import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { SecretResult } from '../../src/engine/result.js';
import type { Session } from '../../src/engine/session.js';
import { RotateError } from '../../src/errors.js';
import { historyNotice } from '../../src/notify/history-notice.js';
import { notifyRunError, notifyUnrecorded } from '../../src/notify/run-notice.js';
import { notifySchema } from '../../src/notify/schema.js';
import { oneLine, sendNotice } from '../../src/notify/send.js';
import { markSecret } from '../../src/secret-value.js';
import type { HistoryEntry } from '../../src/store/types.js';
import { freePort } from '../helpers/cli.js';
import { startWebhook, type Webhook } from '../helpers/webhook.js';

const hooks: Webhook[] = [];
afterEach(async () => {
  await Promise.all(hooks.splice(0).map((hook) => hook.close()));
});

/** A webhook that answers each POST with the next status of `statuses` (then 200) and keeps the bodies. */
async function webhook(statuses: number[] = []): Promise<Webhook> {
  const hook = await startWebhook(statuses);
  hooks.push(hook);
  return hook;
}

function deps() {
  const warnings: string[] = [];
  const sleeps: number[] = [];
  return {
    warnings,
    sleeps,
    fetch: globalThis.fetch,
    log: { info: () => {}, debug: () => {}, warn: (m: string) => warnings.push(m) },
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
  };
}

/** A session whose notifications go to a fresh local hook, on host app-1. */
async function hookedSession(): Promise<{ hook: Webhook; session: Session }> {
  const hook = await webhook();
  const session = { config: { notify: notifySchema.parse({ webhookUrl: hook.url }) }, deps: { ...deps(), host: 'app-1' } };
  return { hook, session: session as unknown as Session };
}

const failedEntry: HistoryEntry = {
  at: '2026-12-01T03:00:00.000Z',
  runId: 'run-1',
  secret: 'jwt',
  kind: 'jwt',
  action: 'rotate',
  result: 'rolled-back',
  actor: 'cron@host',
  error: { code: 'VERIFY_FAILED', message: 'jwt: the new value did not pass verification:\n  app answered 401' },
  durationMs: 1200,
  fingerprints: { old: 'aaaaaaaaaaaa', new: 'aaaaaaaaaaaa' },
  chain: 'f'.repeat(64),
};

describe('notifications', () => {
  it('a failure says in one line what failed and what to run next, with the structured fields beside it', async () => {
    const hook = await webhook();
    const d = deps();
    const notice = historyNotice(failedEntry, 'rolled-back', 'host-a')!;
    expect(await sendNotice(notifySchema.parse({ webhookUrl: hook.url }), d, notice)).toBe(true);
    const body = JSON.parse(hook.bodies[0]!);
    expect(body).toMatchObject({ event: 'failure', secret: 'jwt', result: 'rolled-back', error: { code: 'VERIFY_FAILED' } });
    expect(body.text).not.toContain('\n');
    expect(body.text).toContain('jwt rotation failed on host-a and was rolled back');
    expect(body.text).toContain('[VERIFY_FAILED]');
    expect(body.text).toContain('`rotate status`');
    expect(body.text).toContain('`rotate jwt`');
    expect(body.chain).toBeUndefined();
  });

  it('notify.on filters by event; success is off unless asked for', async () => {
    const hook = await webhook();
    const success = historyNotice({ ...failedEntry, result: 'rotated', error: undefined }, 'rotated', 'h')!;
    expect(success.event).toBe('success');
    expect(await sendNotice(notifySchema.parse({ webhookUrl: hook.url }), deps(), success)).toBe(false);
    expect(
      await sendNotice(
        notifySchema.parse({ webhookUrl: hook.url, on: ['failure'] }),
        deps(),
        historyNotice(failedEntry, 'rolled-back', 'h')!,
      ),
    ).toBe(true);
    expect(await sendNotice(notifySchema.parse({ webhookUrl: hook.url, on: ['success'] }), deps(), success)).toBe(true);
    expect(hook.bodies).toHaveLength(2);
    expect(historyNotice(failedEntry, 'retire-failed', 'h')!.event).toBe('needs-person');
    expect(historyNotice(failedEntry, 'skipped', 'h')).toBeUndefined();
  });

  it('retries a webhook that answers 503, then delivers', async () => {
    const hook = await webhook([503, 502]);
    const d = deps();
    expect(await sendNotice(notifySchema.parse({ webhookUrl: hook.url }), d, historyNotice(failedEntry, 'failed', 'h')!)).toBe(true);
    expect(hook.bodies).toHaveLength(3);
    expect(d.sleeps).toHaveLength(2);
    expect(d.warnings).toEqual([]);
  });

  it('gives up on an unreachable webhook after a bounded number of tries, with a warning and no throw', async () => {
    const url = `http://127.0.0.1:${await freePort()}/hook`;
    const d = deps();
    expect(await sendNotice(notifySchema.parse({ webhookUrl: url }), d, historyNotice(failedEntry, 'failed', 'h')!)).toBe(false);
    expect(d.sleeps).toHaveLength(2);
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toContain('could not deliver the failure notification');
  });

  it('does not retry a 4xx other than 408/429', async () => {
    const hook = await webhook([404]);
    const d = deps();
    expect(await sendNotice(notifySchema.parse({ webhookUrl: hook.url }), d, historyNotice(failedEntry, 'failed', 'h')!)).toBe(false);
    expect(hook.bodies).toHaveLength(1);
    expect(d.warnings[0]).toContain('HTTP 404');
  });

  it('never posts a value marked secret, even inside an error message or a reason', async () => {
    const secret = 'hunter2-super-secret-value-0123456789';
    markSecret(secret);
    const hook = await webhook();
    const entry = { ...failedEntry, reason: `pasted ${secret}`, error: { code: 'X', message: `bad ${secret}` } };
    await sendNotice(notifySchema.parse({ webhookUrl: hook.url }), deps(), historyNotice(entry, 'failed', 'h')!);
    expect(hook.bodies[0]).not.toContain(secret);
  });

  it('refuses an unknown notify.on value at its config path', () => {
    const result = configSchema.safeParse({ notify: { on: ['failure', 'sometimes'] } });
    expect(result.error!.issues.map((i) => i.path.join('.'))).toEqual(['notify.on.1']);
    expect(result.error!.issues[0]!.message).toContain('failure, needs-person, due-soon, success');
  });

  it('oneLine flattens and bounds text', () => {
    expect(oneLine('a\n\n  b\tc')).toBe('a b c');
    expect(oneLine('x'.repeat(500))).toHaveLength(400);
  });

  it('a failure that left no history record (checks failed, nothing changed) is posted once, recorded ones are not', async () => {
    const { hook, session } = await hookedSession();
    const result = (secret: string, status: SecretResult['status']): SecretResult => ({
      secret,
      kind: 'postgres',
      status,
      checks: [],
      facts: {},
      envKeys: [],
      steps: [],
      ...(status === 'failed'
        ? { error: { code: 'PREFLIGHT_FAILED', message: `${secret}: the current value does not pass its checks` } }
        : {}),
    });
    await notifyUnrecorded(
      session,
      [result('database', 'failed'), result('redis', 'failed'), result('jwt', 'skipped')],
      new Set(['redis']),
    );
    expect(hook.bodies).toHaveLength(1);
    const body = JSON.parse(hook.bodies[0]!);
    expect(body).toMatchObject({ event: 'failure', secret: 'database', error: { code: 'PREFLIGHT_FAILED' } });
    expect(body.text).toContain('database rotation failed its checks on app-1; nothing was changed');
    expect(body.text).toContain('`rotate verify database`');
  });

  it('a --due run that stops on an error is posted (needs-person for exit 3), a held lock is not', async () => {
    const { hook, session } = await hookedSession();
    await notifyRunError(session, 'rotate --due', new RotateError('LOCKED', 'another rotation holds the lock'));
    await notifyRunError(session, 'rotate --due', new RotateError('RUN_PENDING', 'an earlier run did not finish'));
    await notifyRunError(session, 'rotate --due', new Error('socket hang up'));
    expect(hook.bodies.map((b) => JSON.parse(b).event)).toEqual(['needs-person', 'failure']);
    expect(JSON.parse(hook.bodies[0]!).text).toContain('`rotate resume`');
    expect(JSON.parse(hook.bodies[1]!).text).toContain('[UNEXPECTED] socket hang up');
  });
});

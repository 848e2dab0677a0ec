// `rotate stripe` against the fake Stripe API (through the real `stripe` package) and the stand-in app's webhook
// route. The engine's steps are driven by hand here, in its order: preflight, generate, apply, write env + restart,
// verify, retire, verifyRetired; undoApply + verifyCurrent on failure.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Check, JsonValue } from '../../src/core-types.js';
import { checksOf } from '../../src/engine/checks.js';
import { RotateError } from '../../src/errors.js';
import { SecretValue } from '../../src/secret-value.js';
import { stripeRotator as rotator, type StripeRotation } from '../../src/secrets/stripe/index.js';
import type { StripeSecretConfig } from '../../src/secrets/stripe/kind.js';
import type { Rotation } from '../../src/secrets/types.js';
// @ts-expect-error the stand-in app is plain JavaScript
import { setup as stripeRoutes } from '../app/routes/stripe.mjs';
import { type TestContext, testContext } from '../helpers/context.js';
import { type FakeEndpoint, FakeStripe } from '../helpers/fake-stripe.js';

const WEBHOOK_URL = 'https://app.example.com/api/billing/webhook';
type Handler = (input: { req: unknown; raw: Buffer }) => { status: number; body: unknown };

/** The stand-in app's Stripe route in-process; `restart` re-reads the env like a recreated container. */
class App {
  #handler!: Handler;
  #server!: Server;
  restart(env: Record<string, string>): void {
    this.#handler = stripeRoutes(env).routes['POST /api/billing/webhook'];
  }
  get verifyUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/api/billing/webhook`;
  }
  async start(env: Record<string, string>): Promise<void> {
    this.restart(env);
    this.#server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const out =
        req.url === '/api/billing/webhook' && req.method === 'POST'
          ? this.#handler({ req, raw: Buffer.concat(chunks) })
          : { status: 404, body: {} };
      res.writeHead(out.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out.body));
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

let fake: FakeStripe;
let app: App;
/** Everything the rotator produced in a test: grepped for secret values after each test. */
let produced: string[];
let contexts: TestContext<StripeSecretConfig>[];
let sk: string;
let pk: string;
let endpoint: FakeEndpoint;

beforeEach(async () => {
  fake = await FakeStripe.start();
  app = new App();
  produced = [];
  contexts = [];
  sk = fake.addKey('acct_A');
  pk = fake.addKey('acct_A', { type: 'pk' });
  endpoint = fake.addEndpoint('acct_A', {
    url: WEBHOOK_URL,
    enabled_events: ['checkout.session.completed', 'invoice.paid', 'customer.subscription.deleted'],
    api_version: '2024-06-20',
    description: 'billing webhook',
    metadata: { team: 'billing' },
    connect: true,
  });
  await app.start(baseEnv());
});

afterEach(async () => {
  const everything = [...produced, ...contexts.flatMap((ctx) => ctx.logged), fake.requestLogWithoutAuthorization()].join('\n');
  for (const secret of fake.issued) expect(everything.includes(secret), 'a key or signing secret leaked').toBe(false);
  // The keys do travel, in the Authorization header only.
  expect(fake.requests.every((r) => /^Bearer (sk|rk)_(test|live)_/.test(String(r.headers.authorization)))).toBe(true);
  await app.close();
  await fake.close();
});

const baseEnv = () => ({ STRIPE_SECRET_KEY: sk, STRIPE_PUBLISHABLE_KEY: pk, STRIPE_WEBHOOK_SECRET: endpoint.secret, OTHER: 'kept' });

function context(options: {
  env?: Record<string, string>;
  handIn?: Record<string, string>;
  webhook?: Record<string, unknown> | null;
  lastFacts?: Record<string, JsonValue>;
  unattended?: boolean;
  emergency?: boolean;
  environment?: Record<string, string>;
}): TestContext<StripeSecretConfig> {
  const webhook = options.webhook === undefined ? { url: WEBHOOK_URL, verifyUrl: app.verifyUrl } : options.webhook;
  const ctx = testContext<StripeSecretConfig>({
    id: 'stripe',
    config: { kind: 'stripe', apiBase: fake.apiBase, ...(webhook ? { webhook } : {}) },
    env: options.env ?? baseEnv(),
    secretInput: Object.fromEntries(Object.entries(options.handIn ?? {}).map(([k, v]) => [k, new SecretValue(v)])),
    ...(options.lastFacts ? { lastFacts: options.lastFacts } : {}),
    ...(options.unattended ? { unattended: true } : {}),
    ...(options.emergency ? { emergency: true } : {}),
    ...(options.environment ? { environment: options.environment } : {}),
  });
  contexts.push(ctx);
  return ctx;
}

const handIn = (secret: string, publishable?: string) => ({
  ROTATE_NEW_STRIPE_SECRET_KEY: secret,
  ...(publishable ? { ROTATE_NEW_STRIPE_PUBLISHABLE_KEY: publishable } : {}),
});

function writeEnv(ctx: TestContext<StripeSecretConfig>, changes: Rotation['env']): void {
  const next: Record<string, string> = { ...ctx.env };
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) delete next[name];
    else next[name] = value.reveal();
  }
  ctx.env = next;
}

function record(value: unknown): void {
  produced.push(JSON.stringify(value) ?? '', inspect(value, { depth: 10 }));
  if (value instanceof Error) produced.push(value.message, String((value as RotateError).hint), String(value.stack));
}

const allOk = (checks: Check[]) => {
  record(checks);
  expect(checks.filter((c) => !c.ok)).toEqual([]);
};

/** The engine's happy path. */
async function rotate(ctx: TestContext<StripeSecretConfig>, restore?: StripeRotation): Promise<StripeRotation> {
  const pre = await rotator.preflight(ctx);
  record(pre);
  allOk(pre.checks);
  const generated = await rotator.generate(ctx, restore);
  record(generated);
  const rotation = await apply(ctx, generated);
  record(rotation);
  writeEnv(ctx, rotation.env);
  app.restart(ctx.env as Record<string, string>);
  allOk(checksOf(await rotator.verify(ctx, rotation)));
  await rotator.retire(ctx, rotation);
  if (rotation.retireEnv) writeEnv(ctx, rotation.retireEnv);
  allOk(await rotator.verifyRetired(ctx, rotation));
  record(rotation);
  return rotation;
}

/** Apply returns the rotation with what it learned (the new endpoint and its signing secret); the given one is unchanged. */
async function apply(ctx: TestContext<StripeSecretConfig>, rotation: StripeRotation): Promise<StripeRotation> {
  return (await rotator.apply(ctx, rotation)) ?? rotation;
}

const writes = () => fake.requests.filter((r) => r.method !== 'GET');

async function refused(ctx: TestContext<StripeSecretConfig>, code: string): Promise<RotateError> {
  const error = await rotator.generate(ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  record(error);
  expect(error).toBeInstanceOf(RotateError);
  expect((error as RotateError).code).toBe(code);
  expect(writes()).toEqual([]);
  expect([...fake.endpoints.keys()]).toEqual([endpoint.id]);
  return error as RotateError;
}

describe('stripe rotation', () => {
  it('rotates the key and the webhook secret; the new endpoint copies the old; the old is gone', async () => {
    const newSk = fake.addKey('acct_A');
    const newPk = fake.addKey('acct_A', { type: 'pk' });
    const ctx = context({ handIn: handIn(newSk, newPk) });
    const rotation = await rotate(ctx);

    expect(ctx.env.STRIPE_SECRET_KEY).toBe(newSk);
    expect(ctx.env.STRIPE_PUBLISHABLE_KEY).toBe(newPk);
    expect(ctx.env.OTHER).toBe('kept');
    const [created, ...others] = fake.endpointsOf('acct_A');
    expect(others).toEqual([]);
    expect(created!.id).not.toBe(endpoint.id);
    expect(ctx.env.STRIPE_WEBHOOK_SECRET).toBe(created!.secret);
    expect(created).toMatchObject({
      url: WEBHOOK_URL,
      enabled_events: endpoint.enabled_events,
      api_version: '2024-06-20',
      description: 'billing webhook',
      connect: true,
      status: 'enabled',
      metadata: { team: 'billing', rotate_run: rotation.facts.runId, rotate_replaces: endpoint.id },
    });
    expect(rotation.facts).toMatchObject({
      accountId: 'acct_A',
      mode: 'test',
      oldEndpointId: endpoint.id,
      newEndpointId: created!.id,
      endpointId: created!.id,
      publishableKeyChanged: true,
    });
    // Webhook calls used the new key.
    const creates = fake.requests.filter((r) => r.method === 'POST');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.headers.authorization).toBe(`Bearer ${newSk}`);
    // rotate verify passes on the result.
    allOk(await rotator.verifyCurrent(context({ env: ctx.env as Record<string, string>, lastFacts: rotation.facts })));
  });

  it('keeps the publishable key when none is handed in, and rotates only the key without a webhook config', async () => {
    const newSk = fake.addKey('acct_A');
    const ctx = context({ handIn: handIn(newSk), webhook: null });
    const rotation = await rotate(ctx);
    expect(Object.keys(rotation.env)).toEqual(['STRIPE_SECRET_KEY']);
    expect(ctx.env.STRIPE_PUBLISHABLE_KEY).toBe(pk);
    expect(ctx.env.STRIPE_WEBHOOK_SECRET).toBe(endpoint.secret);
    expect(writes()).toEqual([]);
  });

  it('finds the endpoint by id, and follows an id that the last rotation replaced', async () => {
    const first = await rotate(
      context({ handIn: handIn(fake.addKey('acct_A')), webhook: { endpointId: endpoint.id, verifyUrl: app.verifyUrl } }),
    );
    const env = { ...(contexts[0]!.env as Record<string, string>) };
    const second = await rotate(
      context({
        env,
        handIn: handIn(fake.addKey('acct_A')),
        webhook: { endpointId: endpoint.id, verifyUrl: app.verifyUrl },
        lastFacts: first.facts,
      }),
    );
    expect(second.facts.oldEndpointId).toBe(first.facts.newEndpointId);
    expect(fake.endpointsOf('acct_A').map((e) => e.id)).toEqual([second.facts.newEndpointId]);
  });

  it('a live-mode rotation works the same', async () => {
    sk = fake.addKey('acct_L', { mode: 'live' });
    pk = fake.addKey('acct_L', { mode: 'live', type: 'pk' });
    endpoint = fake.addEndpoint('acct_L', { mode: 'live', url: WEBHOOK_URL });
    app.restart(baseEnv());
    const rotation = await rotate(
      context({ handIn: handIn(fake.addKey('acct_L', { mode: 'live' }), fake.addKey('acct_L', { mode: 'live', type: 'pk' })) }),
    );
    expect(rotation.facts.mode).toBe('live');
  });
});

describe('refused before any write', () => {
  it('a key of the other mode', async () => {
    const error = await refused(context({ handIn: handIn(fake.addKey('acct_A', { mode: 'live' })) }), 'STRIPE_MODE_MISMATCH');
    expect(error.message).toMatch(/live key .* test key/);
  });

  it('a publishable key of the other mode than the new secret key', async () => {
    await refused(
      context({ handIn: handIn(fake.addKey('acct_A'), fake.addKey('acct_A', { mode: 'live', type: 'pk' })) }),
      'STRIPE_MODE_MISMATCH',
    );
  });

  it('a kept publishable key of the other mode', async () => {
    const env = { ...baseEnv(), STRIPE_PUBLISHABLE_KEY: fake.addKey('acct_A', { mode: 'live', type: 'pk' }) };
    await refused(context({ env, handIn: handIn(fake.addKey('acct_A')) }), 'STRIPE_MODE_MISMATCH');
  });

  it('a key of another account', async () => {
    const error = await refused(context({ handIn: handIn(fake.addKey('acct_B')) }), 'STRIPE_ACCOUNT_MISMATCH');
    expect(error.message).toContain('acct_B');
    expect(error.message).toContain('acct_A');
  });

  it('malformed keys', async () => {
    const publishableAsSecret = fake.addKey('acct_A', { type: 'pk' });
    const error = await refused(context({ handIn: handIn(publishableAsSecret) }), 'STRIPE_KEY_MALFORMED');
    expect(error.message).toContain('pk_test_…');
    await refused(context({ handIn: handIn(`"${fake.addKey('acct_A')}"`) }), 'STRIPE_KEY_MALFORMED');
    await refused(context({ handIn: handIn(fake.addKey('acct_A'), fake.addKey('acct_A')) }), 'STRIPE_KEY_MALFORMED');
  });

  it('a revoked key, and a well-formed key Stripe does not know', async () => {
    const revoked = fake.addKey('acct_A');
    fake.revokeKey(revoked);
    const error = await refused(context({ handIn: handIn(revoked) }), 'STRIPE_KEY_REFUSED');
    expect(error.message).toContain('api_key_expired');
    await refused(context({ handIn: handIn(`sk_test_${'9'.repeat(40)}`) }), 'STRIPE_KEY_REFUSED');
  });

  it('a restricted key without the permission a step needs, named as such', async () => {
    const noAccount = fake.addKey('acct_A', { restricted: ['webhook_read', 'webhook_write'] });
    const error = await refused(context({ handIn: handIn(noAccount) }), 'STRIPE_KEY_PERMISSION');
    expect(error.message).toContain('restricted key');
    expect(error.message).toContain('rak_account_read');
    const noWebhooks = fake.addKey('acct_A', { restricted: ['account_read'] });
    const second = await refused(context({ handIn: handIn(noWebhooks) }), 'STRIPE_KEY_PERMISSION');
    expect(second.message).toContain('rak_webhook_read');
  });

  it('no key handed in, or the current key handed in again', async () => {
    await refused(context({}), 'STRIPE_KEY_NOT_HANDED_IN');
    await refused(context({ handIn: handIn(sk) }), 'STRIPE_KEY_UNCHANGED');
  });

  it('an unknown or ambiguous webhook endpoint', async () => {
    await refused(
      context({ handIn: handIn(fake.addKey('acct_A')), webhook: { url: 'https://elsewhere.example.com/hook', verifyUrl: app.verifyUrl } }),
      'STRIPE_WEBHOOK_NOT_FOUND',
    );
    const twin = fake.addEndpoint('acct_A', { url: WEBHOOK_URL });
    const error = await rotator.generate(context({ handIn: handIn(fake.addKey('acct_A')) })).catch((e: unknown) => e);
    record(error);
    expect((error as RotateError).code).toBe('STRIPE_WEBHOOK_AMBIGUOUS');
    fake.endpoints.delete(twin.id);
  });
});

describe('an expired current key', () => {
  it('matches the new key against the account recorded at the last rotation', async () => {
    fake.revokeKey(sk);
    const ctx = context({ handIn: handIn(fake.addKey('acct_A')), lastFacts: { accountId: 'acct_A' } });
    const pre = await rotator.preflight(ctx);
    record(pre);
    allOk(pre.checks);
    const rotation = await rotate(ctx);
    expect(rotation.facts.accountMatchedAgainst).toBe('last rotation');
  });

  it('refuses a key of another account than recorded, and refuses when nothing was recorded', async () => {
    fake.revokeKey(sk);
    await refused(context({ handIn: handIn(fake.addKey('acct_B')), lastFacts: { accountId: 'acct_A' } }), 'STRIPE_ACCOUNT_MISMATCH');
    await refused(context({ handIn: handIn(fake.addKey('acct_A')) }), 'STRIPE_ACCOUNT_UNKNOWN');
    const pre = await rotator.preflight(context({}));
    record(pre);
    expect(pre.checks.find((c) => c.name === 'current key authenticates')?.ok).toBe(false);
  });
});

describe('preflight', () => {
  it('fails on a bad current value, a missing endpoint, a missing verifyUrl', async () => {
    const failing = async (ctx: TestContext<StripeSecretConfig>) => {
      const pre = await rotator.preflight(ctx);
      record(pre);
      return pre.checks.filter((c) => !c.ok).map((c) => c.name);
    };
    expect(await failing(context({ env: { ...baseEnv(), STRIPE_SECRET_KEY: pk } }))).toEqual(['current secret key']);
    expect(
      await failing(context({ env: { ...baseEnv(), STRIPE_PUBLISHABLE_KEY: fake.addKey('acct_A', { mode: 'live', type: 'pk' }) } })),
    ).toEqual(['current publishable key']);
    expect(await failing(context({ webhook: { url: 'https://elsewhere.example.com/hook', verifyUrl: app.verifyUrl } }))).toEqual([
      'webhook endpoint found',
    ]);
    expect(await failing(context({ webhook: { url: WEBHOOK_URL } }))).toEqual(['webhook verify URL set']);
    const restricted = fake.addKey('acct_A', { restricted: ['webhook_read'] });
    expect(await failing(context({ env: { ...baseEnv(), STRIPE_SECRET_KEY: restricted } }))).toEqual(['current key authenticates']);
    expect(writes()).toEqual([]);
  });
});

describe('failure, undo and resume', () => {
  it('undoApply after a crash between create and journal finds the endpoint by its run metadata', async () => {
    const ctx = context({ handIn: handIn(fake.addKey('acct_A')) });
    // The journal is sealed before apply: it must already name the webhook variable, holding the current value.
    const journaled = await rotator.generate(ctx);
    expect(journaled.env.STRIPE_WEBHOOK_SECRET?.reveal()).toBe(endpoint.secret);
    const applied = await apply(ctx, journaled);
    record(applied);
    expect(journaled.secrets.newWebhookSecret).toBeUndefined(); // apply returned a new rotation, the given one unchanged
    expect(fake.endpointsOf('acct_A')).toHaveLength(2);
    // A new process reads the journal written before apply: no new endpoint id, no new secret.
    await rotator.undoApply(context({}), journaled);
    expect(fake.endpointsOf('acct_A').map((e) => e.id)).toEqual([endpoint.id]);
    await rotator.undoApply(context({}), applied); // idempotent: 404 is fine
    allOk(await rotator.verifyCurrent(context({})));
  });

  it('apply is idempotent and replaces a leftover whose secret is unknown', async () => {
    const ctx = context({ handIn: handIn(fake.addKey('acct_A')) });
    const first = await apply(ctx, await rotator.generate(ctx));
    const firstId = first.facts.newEndpointId;
    expect((await apply(ctx, first)).facts.newEndpointId).toBe(firstId);
    const { newWebhookSecret: _, ...withoutSecret } = first.secrets;
    const again: StripeRotation = { env: { STRIPE_SECRET_KEY: first.env.STRIPE_SECRET_KEY! }, secrets: withoutSecret, facts: first.facts };
    const replaced = await apply(ctx, again);
    record(replaced);
    expect(
      fake
        .endpointsOf('acct_A')
        .map((e) => e.id)
        .sort(),
    ).toEqual([endpoint.id, replaced.facts.newEndpointId].sort());
    expect(replaced.facts.newEndpointId).not.toBe(firstId);
  });

  it('verify fails when the app was not restarted; undo + restored env pass verifyCurrent', async () => {
    const ctx = context({ handIn: handIn(fake.addKey('acct_A')) });
    const rotation = await apply(ctx, await rotator.generate(ctx));
    const before = { ...ctx.env } as Record<string, string>;
    writeEnv(ctx, rotation.env); // no restart: the app still holds the old secret
    const checks = checksOf(await rotator.verify(ctx, rotation));
    record(checks);
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['app accepts an event signed with the new secret']);
    await rotator.undoApply(ctx, rotation);
    ctx.env = before;
    allOk(await rotator.verifyCurrent(ctx));
    expect(fake.endpointsOf('acct_A').map((e) => e.id)).toEqual([endpoint.id]);
  });

  it('a Stripe outage during apply is a RotateError and leaves nothing behind after undo', async () => {
    const ctx = context({ handIn: handIn(fake.addKey('acct_A')) });
    const rotation = await rotator.generate(ctx);
    fake.failures.push({ match: 'POST /v1/webhook_endpoints', status: 500 }, { match: 'POST /v1/webhook_endpoints', status: 500 });
    const error = await rotator.apply(ctx, rotation).catch((e: unknown) => e);
    record(error);
    expect((error as RotateError).code).toBe('STRIPE_API_ERROR');
    await rotator.undoApply(ctx, rotation);
    expect(fake.endpointsOf('acct_A').map((e) => e.id)).toEqual([endpoint.id]);
  });
});

describe('retirement and rollback', () => {
  it('emergency: the old key still valid fails verifyRetired until it is expired', async () => {
    const ctx = context({ handIn: handIn(fake.addKey('acct_A')), emergency: true });
    const rotation = await apply(ctx, await rotator.generate(ctx));
    writeEnv(ctx, rotation.env);
    app.restart(ctx.env as Record<string, string>);
    allOk(checksOf(await rotator.verify(ctx, rotation)));
    await rotator.retire(ctx, rotation);
    let checks = await rotator.verifyRetired(ctx, rotation);
    record(checks);
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['old API key valid until the expiry chosen in the Dashboard']);
    fake.revokeKey(sk);
    checks = await rotator.verifyRetired(ctx, rotation);
    allOk(checks);
    expect(checks.map((c) => c.name)).toEqual([
      'old webhook endpoint deleted',
      'app refuses an event signed with the old secret',
      'old API key refused',
    ]);
  });

  it('rollback puts the previous key back and makes a fresh endpoint (a deleted one cannot return)', async () => {
    const oldSecret = endpoint.secret;
    const first = await rotate(context({ handIn: handIn(fake.addKey('acct_A'), fake.addKey('acct_A', { type: 'pk' })) }));
    const ctx = context({ env: { ...(contexts[0]!.env as Record<string, string>) }, lastFacts: first.facts });
    const back = await rotate(ctx, first);
    expect(ctx.env.STRIPE_SECRET_KEY).toBe(sk);
    expect(ctx.env.STRIPE_PUBLISHABLE_KEY).toBe(pk);
    expect(ctx.env.STRIPE_WEBHOOK_SECRET).not.toBe(oldSecret);
    expect(back.facts).toMatchObject({ rollback: true, oldEndpointId: first.facts.newEndpointId });
    expect(fake.endpointsOf('acct_A').map((e) => e.id)).toEqual([back.facts.newEndpointId]);
  });

  it('rollback is refused when the previous key has expired', async () => {
    const first = await rotate(context({ handIn: handIn(fake.addKey('acct_A')) }));
    fake.revokeKey(sk);
    const before = fake.requests.filter((r) => r.method !== 'GET').length;
    const error = await rotator
      .generate(context({ env: { ...(contexts[0]!.env as Record<string, string>) }, lastFacts: first.facts }), first)
      .catch((e: unknown) => e);
    record(error);
    expect((error as RotateError).code).toBe('STRIPE_ROLLBACK_IMPOSSIBLE');
    expect(fake.requests.filter((r) => r.method !== 'GET').length).toBe(before);
  });
});

describe('unattended', () => {
  it('needs an operator without a handed-in key, with what to do in the Dashboard', () => {
    const message = rotator.needsOperator!(context({ unattended: true }));
    expect(message).toMatch(/Dashboard/);
    expect(message).toMatch(/Roll key/);
    expect(
      rotator.needsOperator!(context({ unattended: true, environment: { ROTATE_NEW_STRIPE_SECRET_KEY: 'sk_test_x' } })),
    ).toBeUndefined();
    expect(rotator.needsOperator!(context({}))).toBeUndefined();
  });
});

// `rotate stripe`: the operator rolls the API key in the Dashboard and hands it in (Stripe has no API for that);
// rotate checks it hard, then rotates the webhook signing secret end to end by replacing the endpoint.
// The steps, in the engine's order: preflight, generate, apply, (undoApply), verify, retire, verifyRetired; and
// verifyCurrent for `rotate verify`. Beside it: keys.ts (key shapes, the keys handed in and their checks),
// client.ts (the Stripe API and the webhook endpoints), signature.ts (signed test events for the app), kind.ts (what
// the rest of rotate knows of the kind: its config and defaults).

import * as z from 'zod/mini';
import { type Check, check, type JsonValue } from '../../core-types.js';
import { RotateError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import type { Preflight, Rotation, RotationSchema, Rotator, RotatorContext } from '../types.js';
import {
  createReplacement,
  deleteEndpoint,
  endpointFacts,
  endpointsOfRun,
  findEndpoint,
  lookupAccount,
  retrieveEndpoint,
  stripeClient,
  type WebhookTarget,
  withKeys,
} from './client.js';
import { checkNewKeys, currentValues, type HandedKeys, NEW_PUBLISHABLE_KEY, NEW_SECRET_KEY, readHandedKeys, shapeChecks } from './keys.js';
import type { StripePlanFacts, StripeSecretConfig } from './kind.js';
import { deliveryCheck } from './signature.js';

export { stripeSignatureHeader } from './signature.js';

export type StripeContext = RotatorContext<StripeSecretConfig>;

/** The Stripe keys and signing secrets a rotation carries (the new signing secret from apply on). */
export type StripeRotation = Rotation<{
  newSecretKey: SecretValue;
  oldSecretKey?: SecretValue;
  newPublishableKey?: SecretValue;
  oldPublishableKey?: SecretValue;
  oldWebhookSecret?: SecretValue;
  newWebhookSecret?: SecretValue;
}>;

/** The facts a Stripe rotation records that its later steps, and the next rotation, read back. */
interface StripeFacts {
  accountId?: string;
  /** Tags the endpoints this run creates, so that undo finds them even if their ids were never journaled. */
  runId?: string;
  oldEndpointId?: string;
  newEndpointId?: string;
  /** The endpoint in use after the rotation: the next rotation follows it when the config names a replaced id. */
  endpointId?: string;
}

const FACTS = ['accountId', 'runId', 'oldEndpointId', 'newEndpointId', 'endpointId'] as const;

const optionalText = z.optional(z.string());

/** What a Stripe rotation keeps (`Rotator.journaled`): the new secret key at least, and the facts its steps read. */
const journaled = {
  secrets: z.object({
    newSecretKey: z.string(),
    oldSecretKey: optionalText,
    newPublishableKey: optionalText,
    oldPublishableKey: optionalText,
    oldWebhookSecret: optionalText,
    newWebhookSecret: optionalText,
  }),
  facts: z.looseObject(Object.fromEntries(FACTS.map((name) => [name, optionalText]))),
} satisfies RotationSchema<StripeRotation>;

function factsOf(facts: Readonly<Record<string, JsonValue>>): StripeFacts {
  const out: StripeFacts = {};
  for (const name of FACTS) {
    const value = facts[name];
    if (typeof value === 'string' && value.length > 0) out[name] = value;
  }
  return out;
}

/** The endpoint to rotate, when the config names one; without it only the API keys rotate. */
function webhookTarget(ctx: StripeContext): WebhookTarget | undefined {
  const webhook = ctx.config.webhook;
  if (!webhook?.endpointId && !webhook?.url) return undefined;
  return { endpointId: webhook.endpointId, url: webhook.url };
}

interface AccountCheck {
  check: Check;
  /** The key works at Stripe, so the endpoint lookups can use it. */
  usable: boolean;
  accountId?: string;
}

async function accountCheck(ctx: StripeContext, forRotation: boolean): Promise<AccountCheck> {
  const { secretKey } = currentValues(ctx);
  const name = 'current key authenticates';
  if (!secretKey) return { check: check('stripe-current-key-works', name, false, 'no current key'), usable: false };
  const lookup = await lookupAccount(ctx, secretKey);
  const recorded = factsOf(ctx.lastFacts).accountId;
  if (lookup.ok) {
    if (!forRotation && recorded && recorded !== lookup.accountId)
      return {
        check: check(
          'stripe-current-key-works',
          name,
          false,
          `account ${lookup.accountId}, but the last rotation recorded ${recorded}`,
          'The env file holds a key of another Stripe account.',
        ),
        usable: true,
      };
    return {
      check: check('stripe-current-key-works', name, true, `account ${lookup.accountId}`),
      usable: true,
      accountId: lookup.accountId,
    };
  }
  if (lookup.status === 401 && forRotation && recorded)
    return {
      check: check(
        'stripe-current-key-works',
        name,
        true,
        `refused (${lookup.detail}): expired in the Dashboard? The new key will be matched against account ${recorded} from the last rotation`,
      ),
      usable: false,
      accountId: recorded,
    };
  const hint =
    lookup.status === 401
      ? 'The key is unknown or expired, and no earlier rotation recorded its account: roll the key with an expiry for the old one (e.g. 1 hour) and put the still-valid old key back in the env file.'
      : lookup.status === 403
        ? 'The key is restricted without read access to the account: grant it in the Dashboard (Developers -> API keys -> edit key) or use a standard key.'
        : 'Check secrets.stripe.apiBase and the network.';
  return { check: check('stripe-current-key-works', name, false, lookup.detail, hint), usable: false };
}

async function endpointCheck(
  ctx: StripeContext,
  usable: boolean,
  forRotation: boolean,
): Promise<{ check: Check; facts?: Record<string, JsonValue> }> {
  const target = webhookTarget(ctx)!;
  const name = 'webhook endpoint found';
  const { secretKey } = currentValues(ctx);
  if (!usable || !secretKey)
    return forRotation
      ? {
          check: check(
            'stripe-webhook-endpoint-found',
            name,
            true,
            'not checked with the current key; checked with the new key before any change',
          ),
        }
      : { check: check('stripe-webhook-endpoint-found', name, false, 'not checked: the current key does not work') };
  try {
    const endpoint = await findEndpoint(
      stripeClient(ctx.config.apiBase, secretKey),
      target,
      factsOf(ctx.lastFacts).endpointId,
      'the current key',
    );
    const detail = `${endpoint.id} (${endpoint.url}, ${endpoint.status}, ${endpoint.enabled_events.length} event types)`;
    return { check: check('stripe-webhook-endpoint-found', name, true, detail), facts: endpointFacts(endpoint) };
  } catch (error) {
    if (error instanceof RotateError) return { check: check('stripe-webhook-endpoint-found', name, false, error.message, error.hint) };
    throw error;
  }
}

/** Read-only: the current keys' shapes and account, the endpoint to rotate, and where to prove the app accepts it. */
async function preflight(ctx: StripeContext): Promise<Preflight> {
  const shapes = shapeChecks(ctx, currentValues(ctx), webhookTarget(ctx) !== undefined);
  const checks = [...shapes.checks];
  const facts: StripePlanFacts = {
    mode: shapes.secret?.mode ?? null,
    keyType: shapes.secret?.type ?? null,
    // The real run's generate reads the rolled key first (readHandedKeys): the plan says where from.
    newKeyFrom: ctx.deps.environment[NEW_SECRET_KEY] ? NEW_SECRET_KEY : 'operator',
  };
  if (!shapes.secret) return { checks, facts };
  const account = await accountCheck(ctx, true);
  checks.push(account.check);
  if (account.accountId) facts.accountId = account.accountId;
  if (!webhookTarget(ctx)) {
    checks.push(
      check(
        'stripe-webhook-configured',
        'webhook',
        true,
        'secrets.stripe.webhook is not set: only the API keys rotate; the webhook secret is left as is',
      ),
    );
    return { checks, facts };
  }
  const endpoint = await endpointCheck(ctx, account.usable, true);
  checks.push(endpoint.check);
  if (endpoint.facts) facts.webhookEndpoint = endpoint.facts;
  checks.push(
    ctx.config.webhook?.verifyUrl
      ? check('stripe-webhook-verify-url', 'webhook verify URL set', true, ctx.config.webhook.verifyUrl)
      : check(
          'stripe-webhook-verify-url',
          'webhook verify URL set',
          false,
          'without it rotate cannot prove the app accepts the new signing secret',
          'Set secrets.stripe.webhook.verifyUrl to where the app receives Stripe events.',
        ),
  );
  return { checks, facts };
}

/** The keys handed in (for a rollback: the previous ones), checked hard, and the webhook endpoint to replace. */
async function generate(ctx: StripeContext, restore?: StripeRotation): Promise<StripeRotation> {
  const current = currentValues(ctx);
  const names = ctx.config.env;
  let handed: HandedKeys;
  let source: { secret: string; publishable: string };
  if (restore) {
    handed = { secretKey: restore.secrets.oldSecretKey, publishableKey: restore.secrets.oldPublishableKey };
    source = { secret: 'the previous secret key', publishable: 'the previous publishable key' };
    if (!handed.secretKey)
      throw new RotateError('STRIPE_ROLLBACK_IMPOSSIBLE', 'The rotation to roll back holds no previous Stripe secret key', {
        hint: 'Roll a new key in the Dashboard and run `rotate stripe` instead.',
      });
  } else {
    handed = await readHandedKeys(ctx);
    source = { secret: NEW_SECRET_KEY, publishable: NEW_PUBLISHABLE_KEY };
  }

  let keys: Awaited<ReturnType<typeof checkNewKeys>>;
  try {
    keys = await checkNewKeys(ctx, handed, current, source, factsOf(ctx.lastFacts).accountId);
  } catch (error) {
    if (restore && error instanceof RotateError && error.code === 'STRIPE_KEY_REFUSED')
      throw new RotateError(
        'STRIPE_ROLLBACK_IMPOSSIBLE',
        `Stripe refuses the previous secret key: it has expired or was revoked in the Dashboard`,
        {
          hint: 'An expired Stripe key cannot come back. Roll a new key in the Dashboard and run `rotate stripe`.',
          cause: error,
        },
      );
    throw error;
  }

  const keysRotation: StripeRotation = {
    env: { [names.secretKey]: keys.secretKey, ...(keys.publishableKey ? { [names.publishableKey]: keys.publishableKey } : {}) },
    secrets: {
      newSecretKey: keys.secretKey,
      ...(current.secretKey ? { oldSecretKey: current.secretKey } : {}),
      ...(keys.publishableKey ? { newPublishableKey: keys.publishableKey } : {}),
      ...(keys.publishableKey && current.publishableKey ? { oldPublishableKey: current.publishableKey } : {}),
    },
    facts: {
      accountId: keys.accountId,
      accountMatchedAgainst: keys.accountSource,
      mode: keys.shape.mode,
      keyType: keys.shape.type,
      publishableKeyChanged: keys.publishableKey !== undefined,
      rollback: restore !== undefined,
      webhook: false,
    },
  };

  const target = webhookTarget(ctx);
  if (!target) return keysRotation;
  const client = stripeClient(ctx.config.apiBase, keys.secretKey);
  const old = await findEndpoint(client, target, factsOf(ctx.lastFacts).endpointId, `${source.secret}`);
  return {
    // The new signing secret exists only after apply. Until then the env change holds the current value, so that the
    // journal (sealed before apply) lists this variable and a restore from another process puts the old one back.
    env: { ...keysRotation.env, [names.webhookSecret]: current.webhookSecret ?? null },
    secrets: { ...keysRotation.secrets, ...(current.webhookSecret ? { oldWebhookSecret: current.webhookSecret } : {}) },
    facts: {
      ...keysRotation.facts,
      webhook: true,
      runId: ctx.deps.randomBytes(8).toString('hex'),
      oldEndpointId: old.id,
      webhookUrl: old.url,
      enabledEvents: old.enabled_events.length,
      apiVersion: old.api_version,
    },
  };
}

/**
 * Creates the endpoint that replaces the old one: its signing secret is the new value, which the returned rotation
 * holds (the engine journals it). Safe to repeat after a crash.
 */
async function apply(ctx: StripeContext, rotation: StripeRotation): Promise<StripeRotation> {
  const { oldEndpointId: oldId, runId } = factsOf(rotation.facts);
  if (!oldId || !runId) {
    ctx.deps.log.info('Stripe: nothing to change at Stripe (the API key was rolled in the Dashboard; no webhook configured)');
    return rotation;
  }
  return withKeys(ctx, rotation, async (client) => {
    const ours = await endpointsOfRun(client, runId, 'the Stripe key');
    const newId = factsOf(rotation.facts).newEndpointId;
    if (rotation.secrets.newWebhookSecret && newId && ours.some((e) => e.id === newId)) return rotation;
    // An endpoint of this run whose secret we do not hold is useless: its secret was shown once, to a dead process.
    for (const leftover of ours) if (leftover.id !== oldId) await deleteEndpoint(client, leftover.id, 'the Stripe key');
    const old = await retrieveEndpoint(client, oldId, 'the Stripe key');
    if (!old)
      throw new RotateError('STRIPE_WEBHOOK_NOT_FOUND', `The webhook endpoint ${oldId} disappeared before rotate could copy it`, {
        hint: 'Someone deleted it in the Dashboard meanwhile; check Developers -> Webhooks and run the rotation again.',
      });
    const created = await createReplacement(client, old, runId, 'the Stripe key');
    if (!created.secret) {
      await deleteEndpoint(client, created.id, 'the Stripe key');
      throw new RotateError('STRIPE_API_ERROR', `Stripe created webhook endpoint ${created.id} without returning its signing secret`, {
        hint: 'The endpoint was deleted again; retry the rotation.',
      });
    }
    const secret = new SecretValue(created.secret);
    ctx.deps.log.info(`Stripe: created webhook endpoint ${created.id} for ${created.url}, replacing ${old.id}`);
    return {
      ...rotation,
      env: { ...rotation.env, [ctx.config.env.webhookSecret]: secret },
      secrets: { ...rotation.secrets, newWebhookSecret: secret },
      facts: { ...rotation.facts, newEndpointId: created.id, endpointId: created.id } satisfies StripeFacts,
    };
  });
}

/** Deletes every endpoint this run created, found by its run id even when the journal never learned the id. */
async function undoApply(ctx: StripeContext, rotation: StripeRotation): Promise<void> {
  const { oldEndpointId: oldId, runId } = factsOf(rotation.facts);
  if (!runId) return;
  await withKeys(ctx, rotation, async (client) => {
    const ids = new Set((await endpointsOfRun(client, runId, 'the Stripe key')).map((e) => e.id));
    const newId = factsOf(rotation.facts).newEndpointId;
    if (newId) ids.add(newId);
    ids.delete(oldId ?? '');
    for (const id of ids) {
      const existed = await deleteEndpoint(client, id, 'the Stripe key');
      if (existed) ctx.deps.log.info(`Stripe: deleted webhook endpoint ${id} created by this rotation`);
    }
  });
}

/** The env file holds the new values, the new key works on the same account, the app accepts the new signing secret. */
async function verify(ctx: StripeContext, rotation: StripeRotation): Promise<Check[]> {
  const names = ctx.config.env;
  const checks: Check[] = [];
  const inFile = currentValues(ctx);
  const expected = rotation.secrets.newSecretKey;
  checks.push(
    check(
      'env-key-holds-new',
      'env file holds the new secret key',
      !!expected && !!inFile.secretKey?.equals(expected),
      `${names.secretKey}`,
      'The env file was not updated; run `rotate status`.',
    ),
  );
  const lookup = await lookupAccount(ctx, inFile.secretKey ?? expected!);
  const { accountId, oldEndpointId, newEndpointId: newId } = factsOf(rotation.facts);
  checks.push(
    lookup.ok
      ? check(
          'stripe-new-key-same-account',
          'new key authenticates, same account',
          lookup.accountId === accountId,
          `account ${lookup.accountId}`,
          `Expected account ${accountId}.`,
        )
      : check(
          'stripe-new-key-same-account',
          'new key authenticates, same account',
          false,
          lookup.detail,
          'The new key stopped working: check Developers -> API keys.',
        ),
  );
  if (oldEndpointId) {
    const endpoint = newId ? await withKeys(ctx, rotation, (client) => retrieveEndpoint(client, newId, 'the Stripe key')) : undefined;
    checks.push(
      check(
        'stripe-new-endpoint-enabled',
        'new webhook endpoint enabled',
        endpoint?.status === 'enabled',
        endpoint ? `${endpoint.id}: ${endpoint.status}` : 'missing',
        'Check Developers -> Webhooks.',
      ),
    );
    const secret = inFile.webhookSecret;
    const expectedSecret = rotation.secrets.newWebhookSecret;
    checks.push(
      check(
        'env-key-holds-new',
        'env file holds the new webhook secret',
        !!secret && !!expectedSecret && secret.equals(expectedSecret),
        names.webhookSecret,
        'The env file was not updated; run `rotate status`.',
      ),
    );
    if (secret) checks.push(await deliveryCheck(ctx, 'app accepts an event signed with the new secret', secret, 'accept', accountId));
  }
  return checks;
}

/** Deletes the old endpoint. The old API key cannot be expired by API: it expires when the operator chose. */
async function retire(ctx: StripeContext, rotation: StripeRotation): Promise<StripeRotation> {
  const { oldEndpointId: oldId, newEndpointId } = factsOf(rotation.facts);
  if (oldId && oldId !== newEndpointId) {
    const existed = await withKeys(ctx, rotation, (client) => deleteEndpoint(client, oldId, 'the Stripe key'));
    ctx.deps.log.info(
      existed ? `Stripe: deleted the old webhook endpoint ${oldId}` : `Stripe: old webhook endpoint ${oldId} was already gone`,
    );
  }
  ctx.deps.log.info('Stripe: the old API key expires when you chose in the Dashboard when rolling it; Stripe has no API to expire it');
  return rotation;
}

/** The old endpoint is gone and the app refuses the old signing secret; the old API key expires when the Dashboard says. */
async function verifyRetired(ctx: StripeContext, rotation: StripeRotation): Promise<Check[]> {
  const checks: Check[] = [];
  const { oldEndpointId: oldId, accountId } = factsOf(rotation.facts);
  if (oldId) {
    const endpoint = await withKeys(ctx, rotation, (client) => retrieveEndpoint(client, oldId, 'the Stripe key'));
    checks.push(
      check(
        'stripe-old-endpoint-deleted',
        'old webhook endpoint deleted',
        !endpoint,
        endpoint ? `${oldId} still exists` : `${oldId} is gone`,
        'Delete it under Developers -> Webhooks.',
      ),
    );
    const oldSecret = rotation.secrets.oldWebhookSecret;
    if (oldSecret && !oldSecret.equals(rotation.secrets.newWebhookSecret))
      checks.push(await deliveryCheck(ctx, 'app refuses an event signed with the old secret', oldSecret, 'refuse', accountId));
  }
  const oldKey = rotation.secrets.oldSecretKey;
  if (oldKey) {
    const lookup = await lookupAccount(ctx, oldKey);
    // The check is named by what Stripe answered: a key that still works is never shown as refused.
    const hint = 'Emergency: expire it now in the Dashboard (Developers -> API keys -> the old key -> Expire key).';
    if (!lookup.ok && lookup.status === 401)
      checks.push(check('stripe-old-key-status', 'old API key refused', true, 'Stripe refuses it (expired)'));
    else if (lookup.ok)
      checks.push(
        check(
          'stripe-old-key-status',
          'old API key valid until the expiry chosen in the Dashboard',
          !ctx.emergency,
          'Stripe still accepts it',
          hint,
        ),
      );
    else checks.push(check('stripe-old-key-status', 'old API key not checked', !ctx.emergency, lookup.detail, hint));
  }
  return checks;
}

/** `rotate verify`: the same read-only checks as preflight, and that the app accepts the current signing secret. */
async function verifyCurrent(ctx: StripeContext): Promise<Check[]> {
  const values = currentValues(ctx);
  const shapes = shapeChecks(ctx, values, webhookTarget(ctx) !== undefined);
  const checks = [...shapes.checks];
  if (!shapes.secret) return checks;
  const account = await accountCheck(ctx, false);
  checks.push(account.check);
  if (!webhookTarget(ctx)) return checks;
  const endpoint = await endpointCheck(ctx, account.usable, false);
  checks.push(endpoint.check);
  if (values.webhookSecret)
    checks.push(
      await deliveryCheck(ctx, 'app accepts an event signed with the current secret', values.webhookSecret, 'accept', account.accountId),
    );
  return checks;
}

export const stripeRotator: Rotator<StripeSecretConfig, StripeRotation> = {
  kind: 'stripe',
  journaled,
  needsOperator(ctx) {
    if (!ctx.unattended || ctx.deps.environment[NEW_SECRET_KEY]) return undefined;
    return (
      `Stripe secret "${ctx.id}" is due: roll the API key in the Dashboard (Developers -> API keys -> Roll key; ` +
      'pick an expiry for the old key of at least an hour), then run `rotate ' +
      ctx.id +
      '` at a terminal and paste the new key ' +
      `(or set ${NEW_SECRET_KEY}, never a flag).`
    );
  },
  preflight,
  generate,
  apply,
  undoApply,
  verify,
  retire,
  verifyRetired,
  verifyCurrent,
};

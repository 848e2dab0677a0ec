// `rotate stripe`: the operator rolls the API key in the Dashboard and hands it in (Stripe has no API for that);
// rotate checks it hard, then rotates the webhook signing secret end to end by replacing the endpoint.
import type { StripeSecretConfig } from '../../config/schema.js';
import { RotateError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import type { Rotation, Rotator } from '../types.js';
import { stripeClient } from './client.js';
import { currentValues, lastString, type StripeContext, webhookTarget } from './current.js';
import { checkNewKeys, type HandedKeys, NEW_SECRET_KEY, readHandedKeys } from './handover.js';
import { factString, withKeys } from './journaled.js';
import { preflight, verifyCurrent } from './read-only.js';
import { verify, verifyRetired } from './verification.js';
import { createReplacement, deleteEndpoint, endpointsOfRun, findEndpoint, retrieveEndpoint } from './webhook.js';

export { NEW_PUBLISHABLE_KEY, NEW_SECRET_KEY } from './handover.js';
export { stripeSignatureHeader } from './signature.js';

async function generate(ctx: StripeContext, restore?: Rotation): Promise<Rotation> {
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
    source = { secret: NEW_SECRET_KEY, publishable: 'ROTATE_NEW_STRIPE_PUBLISHABLE_KEY' };
  }

  let keys: Awaited<ReturnType<typeof checkNewKeys>>;
  try {
    keys = await checkNewKeys(ctx, handed, current, source);
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

  const rotation: Rotation = {
    env: { [names.secretKey]: keys.secretKey },
    secrets: { newSecretKey: keys.secretKey },
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
  if (current.secretKey) rotation.secrets.oldSecretKey = current.secretKey;
  if (keys.publishableKey) {
    rotation.env[names.publishableKey] = keys.publishableKey;
    rotation.secrets.newPublishableKey = keys.publishableKey;
    if (current.publishableKey) rotation.secrets.oldPublishableKey = current.publishableKey;
  }

  const target = webhookTarget(ctx);
  if (target) {
    const client = stripeClient(ctx.config.apiBase, keys.secretKey);
    const old = await findEndpoint(client, target, lastString(ctx, 'endpointId'), `${source.secret}`);
    Object.assign(rotation.facts, {
      webhook: true,
      runId: ctx.deps.randomBytes(8).toString('hex'),
      oldEndpointId: old.id,
      webhookUrl: old.url,
      enabledEvents: old.enabled_events.length,
      apiVersion: old.api_version,
    });
    if (current.webhookSecret) rotation.secrets.oldWebhookSecret = current.webhookSecret;
    // The new signing secret exists only after apply. Until then the env change holds the current value, so that the
    // journal (sealed before apply) lists this variable and a restore from another process puts the old one back.
    rotation.env[names.webhookSecret] = current.webhookSecret ?? null;
  }
  return rotation;
}

async function apply(ctx: StripeContext, rotation: Rotation): Promise<void> {
  const oldId = factString(rotation, 'oldEndpointId');
  const runId = factString(rotation, 'runId');
  if (!oldId || !runId) {
    ctx.deps.log.info('Stripe: nothing to change at Stripe (the API key was rolled in the Dashboard; no webhook configured)');
    return;
  }
  await withKeys(ctx, rotation, async (client) => {
    const ours = await endpointsOfRun(client, runId, 'the Stripe key');
    const newId = factString(rotation, 'newEndpointId');
    if (rotation.secrets.newWebhookSecret && newId && ours.some((e) => e.id === newId)) return;
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
    rotation.secrets.newWebhookSecret = secret;
    rotation.env[ctx.config.env.webhookSecret] = secret;
    Object.assign(rotation.facts, { newEndpointId: created.id, endpointId: created.id });
    ctx.deps.log.info(`Stripe: created webhook endpoint ${created.id} for ${created.url}, replacing ${old.id}`);
  });
}

async function undoApply(ctx: StripeContext, rotation: Rotation): Promise<void> {
  const oldId = factString(rotation, 'oldEndpointId');
  const runId = factString(rotation, 'runId');
  if (!runId) return;
  await withKeys(ctx, rotation, async (client) => {
    const ids = new Set((await endpointsOfRun(client, runId, 'the Stripe key')).map((e) => e.id));
    const newId = factString(rotation, 'newEndpointId');
    if (newId) ids.add(newId);
    ids.delete(oldId ?? '');
    for (const id of ids) {
      const existed = await deleteEndpoint(client, id, 'the Stripe key');
      if (existed) ctx.deps.log.info(`Stripe: deleted webhook endpoint ${id} created by this rotation`);
    }
  });
}

async function retire(ctx: StripeContext, rotation: Rotation): Promise<void> {
  const oldId = factString(rotation, 'oldEndpointId');
  if (oldId && oldId !== factString(rotation, 'newEndpointId')) {
    const existed = await withKeys(ctx, rotation, (client) => deleteEndpoint(client, oldId, 'the Stripe key'));
    ctx.deps.log.info(
      existed ? `Stripe: deleted the old webhook endpoint ${oldId}` : `Stripe: old webhook endpoint ${oldId} was already gone`,
    );
  }
  ctx.deps.log.info('Stripe: the old API key expires when you chose in the Dashboard when rolling it; Stripe has no API to expire it');
}

export const stripeRotator: Rotator<StripeSecretConfig> = {
  kind: 'stripe',
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

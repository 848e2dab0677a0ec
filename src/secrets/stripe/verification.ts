// After the env file holds the new values: the new ones work (verify), and the old ones no longer do (verifyRetired).
import { type Check, check, type Rotation } from '../types.js';
import { currentValues, lookupAccount, type StripeContext } from './current.js';
import { deliveryCheck } from './delivery.js';
import { factString, withKeys } from './journaled.js';
import { retrieveEndpoint } from './webhook.js';

export async function verify(ctx: StripeContext, rotation: Rotation): Promise<Check[]> {
  const names = ctx.config.env;
  const checks: Check[] = [];
  const inFile = currentValues(ctx);
  const expected = rotation.secrets.newSecretKey;
  checks.push(
    check(
      'env file holds the new secret key',
      !!expected && !!inFile.secretKey?.equals(expected),
      `${names.secretKey}`,
      'The env file was not updated; run `rotate status`.',
    ),
  );
  const lookup = await lookupAccount(ctx, inFile.secretKey ?? expected!);
  const accountId = factString(rotation, 'accountId');
  checks.push(
    lookup.ok
      ? check(
          'new key authenticates, same account',
          lookup.accountId === accountId,
          `account ${lookup.accountId}`,
          `Expected account ${accountId}.`,
        )
      : check('new key authenticates, same account', false, lookup.detail, 'The new key stopped working: check Developers -> API keys.'),
  );
  const newId = factString(rotation, 'newEndpointId');
  if (factString(rotation, 'oldEndpointId')) {
    const endpoint = newId ? await withKeys(ctx, rotation, (client) => retrieveEndpoint(client, newId, 'the Stripe key')) : undefined;
    checks.push(
      check(
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

export async function verifyRetired(ctx: StripeContext, rotation: Rotation): Promise<Check[]> {
  const checks: Check[] = [];
  const oldId = factString(rotation, 'oldEndpointId');
  if (oldId) {
    const endpoint = await withKeys(ctx, rotation, (client) => retrieveEndpoint(client, oldId, 'the Stripe key'));
    checks.push(
      check(
        'old webhook endpoint deleted',
        !endpoint,
        endpoint ? `${oldId} still exists` : `${oldId} is gone`,
        'Delete it under Developers -> Webhooks.',
      ),
    );
    const oldSecret = rotation.secrets.oldWebhookSecret;
    if (oldSecret && !oldSecret.equals(rotation.secrets.newWebhookSecret))
      checks.push(
        await deliveryCheck(ctx, 'app refuses an event signed with the old secret', oldSecret, 'refuse', factString(rotation, 'accountId')),
      );
  }
  const oldKey = rotation.secrets.oldSecretKey;
  if (oldKey) {
    const lookup = await lookupAccount(ctx, oldKey);
    if (!lookup.ok && lookup.status === 401) checks.push(check('old API key refused', true, 'Stripe refuses it (expired)'));
    else
      checks.push(
        check(
          'old API key refused',
          !ctx.emergency,
          lookup.ok ? 'still valid until the expiry chosen in the Dashboard' : `not checked: ${lookup.detail}`,
          'Emergency: expire it now in the Dashboard (Developers -> API keys -> the old key -> Expire key).',
        ),
      );
  }
  return checks;
}

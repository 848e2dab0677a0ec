// preflight and `rotate verify`: read-only checks of what the env file holds now.
import { RotateError } from '../../errors.js';
import { type Check, check, type JsonValue, type Preflight } from '../types.js';
import { stripeClient } from './client.js';
import { currentValues, lastString, lookupAccount, type StripeContext, shapeChecks, webhookTarget } from './current.js';
import { deliveryCheck } from './delivery.js';
import { endpointFacts, findEndpoint } from './webhook.js';

interface AccountCheck {
  check: Check;
  /** The key works at Stripe, so the endpoint lookups can use it. */
  usable: boolean;
  accountId?: string;
}

async function accountCheck(ctx: StripeContext, forRotation: boolean): Promise<AccountCheck> {
  const { secretKey } = currentValues(ctx);
  const name = 'current key authenticates';
  if (!secretKey) return { check: check(name, false, 'no current key'), usable: false };
  const lookup = await lookupAccount(ctx, secretKey);
  const recorded = lastString(ctx, 'accountId');
  if (lookup.ok) {
    if (!forRotation && recorded && recorded !== lookup.accountId)
      return {
        check: check(
          name,
          false,
          `account ${lookup.accountId}, but the last rotation recorded ${recorded}`,
          'The env file holds a key of another Stripe account.',
        ),
        usable: true,
      };
    return { check: check(name, true, `account ${lookup.accountId}`), usable: true, accountId: lookup.accountId };
  }
  if (lookup.status === 401 && forRotation && recorded)
    return {
      check: check(
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
  return { check: check(name, false, lookup.detail, hint), usable: false };
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
      ? { check: check(name, true, 'not checked with the current key; checked with the new key before any change') }
      : { check: check(name, false, 'not checked: the current key does not work') };
  try {
    const endpoint = await findEndpoint(
      stripeClient(ctx.config.apiBase, secretKey),
      target,
      lastString(ctx, 'endpointId'),
      'the current key',
    );
    const detail = `${endpoint.id} (${endpoint.url}, ${endpoint.status}, ${endpoint.enabled_events.length} event types)`;
    return { check: check(name, true, detail), facts: endpointFacts(endpoint) };
  } catch (error) {
    if (error instanceof RotateError) return { check: check(name, false, error.message, error.hint) };
    throw error;
  }
}

export async function preflight(ctx: StripeContext): Promise<Preflight> {
  const shapes = shapeChecks(ctx, currentValues(ctx));
  const checks = [...shapes.checks];
  const facts: Record<string, JsonValue> = { mode: shapes.secret?.mode ?? null, keyType: shapes.secret?.type ?? null };
  if (!shapes.secret) return { checks, facts };
  const account = await accountCheck(ctx, true);
  checks.push(account.check);
  if (account.accountId) facts.accountId = account.accountId;
  if (!webhookTarget(ctx)) {
    checks.push(check('webhook', true, 'secrets.stripe.webhook is not set: only the API keys rotate; the webhook secret is left as is'));
    return { checks, facts };
  }
  const endpoint = await endpointCheck(ctx, account.usable, true);
  checks.push(endpoint.check);
  if (endpoint.facts) facts.webhookEndpoint = endpoint.facts;
  checks.push(
    ctx.config.webhook?.verifyUrl
      ? check('webhook.verifyUrl set', true, ctx.config.webhook.verifyUrl)
      : check(
          'webhook.verifyUrl set',
          false,
          'without it rotate cannot prove the app accepts the new signing secret',
          'Set secrets.stripe.webhook.verifyUrl to where the app receives Stripe events.',
        ),
  );
  return { checks, facts };
}

export async function verifyCurrent(ctx: StripeContext): Promise<Check[]> {
  const values = currentValues(ctx);
  const shapes = shapeChecks(ctx, values);
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

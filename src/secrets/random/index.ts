import { fetchErrorText } from '../../connection/fetch-error.js';
import { type Check, check } from '../../core-types.js';
import { RotateError } from '../../errors.js';
import { NO_REDIRECT, redirectText } from '../../http/redirect.js';
import { SecretValue } from '../../secret-value.js';
import { oldAndNew } from '../journaled.js';
import type { Rotation, Rotator, RotatorContext } from '../types.js';
import { randomText } from './generate.js';
import { type RandomPlanFacts, type RandomRotationFacts, type RandomSecretConfig, randomLength } from './kind.js';

type Ctx = RotatorContext<RandomSecretConfig>;

function currentValue(ctx: Ctx): SecretValue | undefined {
  const value = ctx.env[ctx.config.env];
  return value ? new SecretValue(value) : undefined;
}

/** verify.url answers 2xx; a redirect is not followed and fails the check. */
async function answers(ctx: Ctx): Promise<Check> {
  const url = ctx.config.verify!.url;
  const name = `${url} answers 2xx`;
  try {
    const response = await ctx.deps.fetch(url, { ...NO_REDIRECT, signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    const redirect = redirectText(response, url);
    const ok = !redirect && response.status >= 200 && response.status < 300;
    return check(
      'verify-url-answers',
      name,
      ok,
      `${url} ${redirect ?? `answered ${response.status}`}`,
      'the app is not healthy with the new value: did the restart re-read the env file?',
    );
  } catch (error) {
    return check(
      'verify-url-answers',
      name,
      false,
      `cannot reach ${url}: ${fetchErrorText(error)}`,
      `start the app or fix secrets.${ctx.id}.verify.url`,
    );
  }
}

export const randomRotator: Rotator<RandomSecretConfig> = {
  kind: 'random',
  journaled: oldAndNew,

  async preflight(ctx) {
    const checks = [
      check(
        'env-key-present',
        `${ctx.config.env} is set`,
        currentValue(ctx) !== undefined,
        ctx.location,
        `add ${ctx.config.env}=... to ${ctx.location}`,
      ),
    ];
    if (ctx.config.verify) checks.push(await answers(ctx));
    return { checks, facts: { verifyUrl: ctx.config.verify?.url ?? null } satisfies RandomPlanFacts };
  },

  async generate(ctx, restore) {
    const old = currentValue(ctx);
    if (!old) {
      throw new RotateError('RANDOM_SECRET_MISSING', `${ctx.config.env} is not set in ${ctx.location}`, {
        hint: `Add ${ctx.config.env} to the env file, or set secrets.${ctx.id}.env to the variable that holds it.`,
      });
    }
    const next = restore?.secrets.old ?? new SecretValue(randomText(ctx.deps.randomBytes, ctx.config.alphabet, randomLength(ctx.config)));
    const rotation: Rotation = {
      env: { [ctx.config.env]: next },
      secrets: { old, new: next },
      facts: {
        characters: next.length,
        alphabet: ctx.config.alphabet,
        ...(restore ? { restored: true as const } : {}),
      } satisfies RandomRotationFacts,
    };
    return rotation;
  },

  // The value lives only in the target: nothing to change elsewhere.
  async apply() {},
  async undoApply() {},

  async verify(ctx, rotation) {
    const which = rotation.facts.restored ? 'previous' : 'new';
    const checks = [
      check(
        'env-key-holds-new',
        `${ctx.config.env} holds the ${which} value`,
        rotation.secrets.new!.equals(currentValue(ctx)),
        ctx.location,
      ),
    ];
    if (ctx.config.verify) checks.push(await answers(ctx));
    else ctx.deps.log.warn(`no verify.url for ${ctx.id}: only the env file and the services' health were checked`);
    return checks;
  },

  // Nothing outside the target knows the old value.
  async retire() {},
  async verifyRetired() {
    return [];
  },

  async verifyCurrent(ctx) {
    const checks = [check('env-key-present', `${ctx.config.env} is set`, currentValue(ctx) !== undefined, ctx.location)];
    if (ctx.config.verify) checks.push(await answers(ctx));
    return checks;
  },
};

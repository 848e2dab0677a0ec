import { SignJWT } from 'jose';
import { fetchErrorText } from '../../connection/fetch-error.js';
import { type Check, check } from '../../core-types.js';
import { RotateError } from '../../errors.js';
import { NO_REDIRECT, redirectText } from '../../http/redirect.js';
import { SecretValue } from '../../secret-value.js';
import { oldAndNew } from '../journaled.js';
import type { Rotation, Rotator, RotatorContext } from '../types.js';
import type { JwtPlanFacts, JwtRotationFacts } from './kind.js';
import { type JwtSecretConfig, jwtPreviousEnv } from './kind.js';

/** RFC 7518 asks for an HS256 key of at least 256 bits; jose itself would take a single byte. */
const MIN_SECRET_BYTES = 32;

type Ctx = RotatorContext<JwtSecretConfig>;

function currentSecret(ctx: Ctx): SecretValue | undefined {
  const value = ctx.env[ctx.config.env];
  return value ? new SecretValue(value) : undefined;
}

async function signToken(ctx: Ctx, secret: SecretValue): Promise<string> {
  const verify = ctx.config.verify;
  const now = Math.floor(ctx.deps.now().getTime() / 1000);
  return new SignJWT({ ...(verify?.claims ?? { id: '1' }) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + (verify?.expiresInSeconds ?? 120))
    .sign(new TextEncoder().encode(secret.reveal()));
}

/**
 * Calls the app's check URL with a token signed by `secret`: its HTTP status, and the words for a redirect (never
 * followed: a 302 to a login page is not the app accepting the token).
 */
async function statusWith(ctx: Ctx, secret: SecretValue): Promise<{ status: number; redirect: string | undefined }> {
  const url = ctx.config.verify!.url;
  const response = await ctx.deps.fetch(url, {
    ...NO_REDIRECT,
    headers: { authorization: `Bearer ${await signToken(ctx, secret)}` },
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return { status: response.status, redirect: redirectText(response, url) };
}

async function accepted(ctx: Ctx, name: string, secret: SecretValue): Promise<Check> {
  try {
    const { status, redirect } = await statusWith(ctx, secret);
    return check(
      'jwt-token-accepted',
      name,
      !redirect && status >= 200 && status < 300,
      `${ctx.config.verify!.url} ${redirect ?? `answered ${status}`}`,
      'the app does not accept tokens signed with this secret: did the restart re-read the env file?',
    );
  } catch (error) {
    return check(
      'jwt-token-accepted',
      name,
      false,
      `cannot reach ${ctx.config.verify!.url}: ${fetchErrorText(error)}`,
      `start the app or fix secrets.${ctx.id}.verify.url`,
    );
  }
}

async function refused(ctx: Ctx, name: string, secret: SecretValue): Promise<Check> {
  try {
    const { status, redirect } = await statusWith(ctx, secret);
    return check(
      'old-value-refused',
      name,
      status === 401,
      `${ctx.config.verify!.url} ${redirect ?? `answered ${status}${status === 401 ? '' : ', not 401'}`}`,
      'the app still accepts the old secret: it may not have restarted, or reads the secret from elsewhere',
    );
  } catch (error) {
    return check('old-value-refused', name, false, `cannot reach ${ctx.config.verify!.url}: ${fetchErrorText(error)}`);
  }
}

function strongEnough(name: string, secret: SecretValue | undefined): Check {
  const bytes = secret ? Buffer.byteLength(secret.reveal()) : 0;
  return check(
    'jwt-secret-strong',
    name,
    bytes >= MIN_SECRET_BYTES,
    `${bytes} bytes`,
    `a JWT secret needs at least ${MIN_SECRET_BYTES} bytes`,
  );
}

export const jwtRotator: Rotator<JwtSecretConfig> = {
  kind: 'jwt',
  journaled: oldAndNew,

  async preflight(ctx) {
    const current = currentSecret(ctx);
    const checks = [
      check(
        'env-key-present',
        `${ctx.config.env} is set`,
        current !== undefined,
        ctx.location,
        `add ${ctx.config.env}=... to ${ctx.location}`,
      ),
    ];
    if (current && Buffer.byteLength(current.reveal()) < MIN_SECRET_BYTES) {
      ctx.deps.log.warn(`${ctx.config.env} is shorter than ${MIN_SECRET_BYTES} bytes; this rotation replaces it with a strong one`);
    }
    if (current && ctx.config.verify) checks.push(await accepted(ctx, 'the app accepts a token signed with the current secret', current));
    return {
      checks,
      facts: { graceHours: ctx.config.graceHours, verifyUrl: ctx.config.verify?.url ?? null } satisfies JwtPlanFacts,
    };
  },

  async generate(ctx, restore) {
    const old = currentSecret(ctx);
    if (!old) {
      throw new RotateError('JWT_SECRET_MISSING', `${ctx.config.env} is not set in ${ctx.location}`, {
        hint: `Add ${ctx.config.env} to the env file, or set secrets.${ctx.id}.env to the variable that holds it.`,
      });
    }
    const next = restore?.secrets.old ?? new SecretValue(ctx.deps.randomBytes(MIN_SECRET_BYTES).toString('base64url'));
    const strength = strongEnough(`the ${restore ? 'restored' : 'new'} secret is long enough`, next);
    if (!strength.ok) {
      throw new RotateError(
        'JWT_SECRET_WEAK',
        `the ${restore ? 'previous' : 'new'} JWT secret is ${strength.detail}, under ${MIN_SECRET_BYTES}`,
        {
          hint: 'rotate refuses to put a weak HS256 secret in place; rotate to a new secret instead',
        },
      );
    }
    const keepOld = ctx.config.graceHours > 0 && !ctx.emergency && !restore;
    const prev = jwtPreviousEnv(ctx.config);
    const rotation: Rotation = {
      env: { [ctx.config.env]: next, ...(keepOld ? { [prev]: old } : prev in ctx.env ? { [prev]: null } : {}) },
      ...(keepOld ? { retireEnv: { [prev]: null } } : {}),
      secrets: { old, new: next },
      facts: {
        characters: next.length,
        ...(restore ? { restored: true as const } : { randomBytes: MIN_SECRET_BYTES }),
        grace: keepOld,
      } satisfies JwtRotationFacts,
    };
    return rotation;
  },

  // The app holds the secret only through the env file: nothing to change elsewhere.
  async apply() {},
  async undoApply() {},

  async verify(ctx, rotation) {
    const next = rotation.secrets.new!;
    // A rollback puts the previous secret back: its lines say so, not "the new secret".
    const which = rotation.facts.restored ? 'previous' : 'new';
    const checks = [
      check('env-key-holds-new', `${ctx.config.env} holds the ${which} secret`, next.equals(currentSecret(ctx)), ctx.location),
    ];
    if (ctx.config.verify) checks.push(await accepted(ctx, `the app accepts a token signed with the ${which} secret`, next));
    else ctx.deps.log.warn(`no verify.url for ${ctx.id}: only the env file was checked`);
    return checks;
  },

  async retire() {},

  async verifyRetired(ctx, rotation) {
    const old = rotation.secrets.old!;
    const prev = jwtPreviousEnv(ctx.config);
    // After a rollback the "old" secret is the one the rollback replaced.
    const which = rotation.facts.restored ? 'replaced' : 'old';
    const checks = [
      check('jwt-previous-cleared', `${prev} does not hold the ${which} secret`, ctx.env[prev] !== old.reveal(), ctx.location),
    ];
    if (ctx.config.verify && !old.equals(rotation.secrets.new)) {
      checks.push(await refused(ctx, `the app refuses a token signed with the ${which} secret`, old));
    }
    return checks;
  },

  async verifyCurrent(ctx) {
    const current = currentSecret(ctx);
    const checks = [check('env-key-present', `${ctx.config.env} is set`, current !== undefined, ctx.location)];
    // A weak secret is reported, not failed: a rollback to it must still count as a clean rollback.
    const strength = strongEnough(ctx.config.env, current);
    if (current && !strength.ok) ctx.deps.log.warn(`${ctx.config.env} is weak (${strength.detail}): rotate it`);
    if (current && ctx.config.verify) checks.push(await accepted(ctx, 'the app accepts a token signed with the current secret', current));
    return checks;
  },
};

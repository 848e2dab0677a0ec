// Strategy `acl` against private redis-servers: one with an aclfile (an `app` user without admin rights and an
// admin URL in the environment), one with only a config file that sets `requirepass` (the platform's setup).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisRotator } from '../../src/secrets/redis/index.js';
import type { RedisSecretConfig } from '../../src/secrets/redis/kind.js';
// @ts-expect-error: the stand-in app is plain JS
import { setup as appSetup } from '../app/routes/redis.mjs';
import { testContext } from '../helpers/context.js';
import { driveRotation, type PrivateRedis, startPrivateRedis, switchedEnv } from '../helpers/private-redis.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const ADMIN_PW = 'admin-password-A1';
const APP_PW = 'app-old-password-1';
const PLATFORM_PW = 'platform-old-pw-2';

let withAclFile: PrivateRedis;
let withConfig: PrivateRedis;
const produced: string[] = [];
const seen: string[] = [];

beforeAll(async () => {
  [withAclFile, withConfig] = await Promise.all([
    startPrivateRedis({
      mode: 'aclfile',
      password: ADMIN_PW,
      users: { app: { password: APP_PW, rules: 'on ~* &* +@all -@admin -@dangerous' } },
    }),
    startPrivateRedis({ mode: 'config-file', password: PLATFORM_PW, requirepassInConfig: true }),
  ]);
});

afterAll(async () => {
  await Promise.all([withAclFile?.stop(), withConfig?.stop()]);
});

const appCtx = (env: Record<string, string>, extra: Record<string, unknown> = {}, emergency = false) => {
  const ctx = testContext<RedisSecretConfig>({
    id: 'redis',
    config: { kind: 'redis', adminUrlEnv: 'ROTATE_REDIS_ADMIN_URL', ...extra },
    env,
    environment: { ROTATE_REDIS_ADMIN_URL: withAclFile.url(ADMIN_PW) },
    emergency,
  });
  return ctx;
};

async function fill(client: Redis, count: number) {
  const pipeline = client.pipeline();
  for (let i = 0; i < count; i++) pipeline.set(`cache:${i}`, String(i));
  await pipeline.exec();
}

const expectRefused = async (server: PrivateRedis, password: string, user?: string) =>
  expect(server.connect(password, user)).rejects.toThrow(/WRONGPASS/);

describe('acl with an aclfile and an admin URL', () => {
  it('preflight refuses when the app user may not run ACL and no admin URL is configured', async () => {
    const ctx = testContext<RedisSecretConfig>({ config: { kind: 'redis' }, env: { REDIS_URL: withAclFile.url(APP_PW, 'app') } });
    const result = await redisRotator.preflight(ctx);
    const admin = result.checks.find((c) => c.name === 'admin may change the password');
    expect(admin?.ok).toBe(false);
    expect(admin?.hint).toMatch(/adminUrlEnv/);
    produced.push(JSON.stringify(result), ...ctx.logged);
  });

  it('adds, switches and retires with an overlap; old connections survive; the aclfile keeps only hashes', async () => {
    const app = await withAclFile.connect(APP_PW, 'app');
    await fill(app, 25);
    const ctx = appCtx({ REDIS_URL: withAclFile.url(APP_PW, 'app', 0) });
    let newPw = '';
    const run = await driveRotation(redisRotator, ctx, async (step) => {
      // The connection opened before the rotation keeps working at every step.
      expect(await app.ping()).toBe('PONG');
      if (step === 'applied') expect(await (await withAclFile.connect(APP_PW, 'app')).quit()).toBe('OK');
    });
    newPw = run.rotation.secrets.newPassword!.reveal();
    seen.push(APP_PW, newPw);
    expect(run.preflight.facts).toMatchObject({
      user: 'app',
      strategy: 'acl',
      persistence: 'aclfile',
      keysBefore: 25,
      adminVia: 'admin-url',
    });
    expect(run.verify.every((c) => c.ok)).toBe(true);
    expect(run.verify.find((c) => c.name === 'no cache loss')?.detail).toMatch(/^25 keys before, 25 after/);
    expect(run.retired).toEqual([expect.objectContaining({ ok: true, detail: expect.stringMatching(/WRONGPASS/) })]);
    expect(await app.get('cache:7')).toBe('7');
    await expectRefused(withAclFile, APP_PW, 'app');

    const acl = readFileSync(withAclFile.aclFile!, 'utf8');
    expect(acl).toContain(`#${sha256(newPw)}`);
    expect(acl).not.toContain(sha256(APP_PW));
    expect(acl).not.toContain(newPw);
    expect(acl).not.toContain(APP_PW);

    await withAclFile.restart();
    const again = await withAclFile.connect(newPw, 'app');
    expect(await again.ping()).toBe('PONG');
    await again.quit();
    await expectRefused(withAclFile, APP_PW, 'app');
    produced.push(
      JSON.stringify(run.rotation),
      JSON.stringify(run.preflight),
      JSON.stringify(run.verify),
      JSON.stringify(run.retired),
      ...ctx.logged,
      acl,
    );
    app.disconnect();
  });

  it('undoApply is idempotent, works without apply and after a partial apply, from the journal alone', async () => {
    const current = (await readAppPassword()) as string;
    const ctx = appCtx({ REDIS_URL: withAclFile.url(current, 'app') });
    const rotation = await redisRotator.generate(ctx);
    const newPw = rotation.secrets.newPassword!.reveal();
    seen.push(newPw);
    await redisRotator.undoApply(ctx, rotation); // crash before apply
    await redisRotator.apply(ctx, rotation);
    await redisRotator.apply(ctx, rotation); // idempotent
    expect(await (await withAclFile.connect(newPw, 'app')).quit()).toBe('OK');
    // A `rotate resume` in a new process: the env file may already hold the new URL.
    const resumed = appCtx(switchedEnv(ctx.env, rotation));
    await redisRotator.undoApply(resumed, rotation);
    await redisRotator.undoApply(resumed, rotation);
    await expectRefused(withAclFile, newPw, 'app');
    expect(await (await withAclFile.connect(current, 'app')).quit()).toBe('OK');
    expect(readFileSync(withAclFile.aclFile!, 'utf8')).not.toContain(sha256(newPw));
    produced.push(JSON.stringify(rotation), ...ctx.logged, ...resumed.logged);
  });

  it('--emergency removes the old password and disconnects the sessions of the user', async () => {
    const current = (await readAppPassword()) as string;
    const old = await withAclFile.connect(current, 'app');
    const ctx = appCtx({ REDIS_URL: withAclFile.url(current, 'app') }, {}, true);
    const run = await driveRotation(redisRotator, ctx);
    seen.push(run.rotation.secrets.newPassword!.reveal());
    expect(run.retired[0]?.ok).toBe(true);
    await expect(old.ping()).rejects.toThrow();
    expect(ctx.logged.join('\n')).toMatch(/emergency: disconnected 1 connection\(s\) of user app/);
    old.disconnect();
    produced.push(JSON.stringify(run.rotation), ...ctx.logged);
  });
});

/** The app user's current password: the last one this file rotated to. */
let lastAppPassword = APP_PW;
async function readAppPassword(): Promise<string> {
  for (const candidate of [...seen].reverse()) {
    try {
      await (await withAclFile.connect(candidate, 'app')).quit();
      lastAppPassword = candidate;
      return candidate;
    } catch {
      // not this one
    }
  }
  return lastAppPassword;
}

describe('acl for the default user with only a config file (requirepass)', () => {
  it('rewrites REDIS_URL and the Celery URLs that embed the password; the config file forgets the old one', async () => {
    const env = {
      REDIS_URL: withConfig.url(PLATFORM_PW, '', 0),
      CELERY_BROKER_URL: `redis://:${PLATFORM_PW}@127.0.0.1:${withConfig.port}/1`,
      CELERY_RESULT_BACKEND: `redis://:${PLATFORM_PW}@127.0.0.1:${withConfig.port}/2?health_check_interval=10`,
      OTHER_URL: 'redis://:unrelated-pw@elsewhere:6379/0',
    };
    // A listed key that holds another Redis password is bad input (#11): a check whose code stops a real run.
    const listedOther = testContext<RedisSecretConfig>({
      config: { kind: 'redis', alsoUpdate: ['CELERY_BROKER_URL', 'OTHER_URL'] },
      env,
    });
    const pre = await redisRotator.preflight(listedOther);
    expect(pre.checks.find((c) => c.code === 'REDIS_ALSO_UPDATE_MISMATCH')).toMatchObject({ ok: false });
    expect(pre.checks.find((c) => c.code === 'REDIS_ALSO_UPDATE_MISMATCH')?.detail).toContain('OTHER_URL');
    const ctx = testContext<RedisSecretConfig>({
      config: { kind: 'redis', alsoUpdate: ['CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND', 'MISSING_URL'] },
      env,
    });
    const before = await appSetup({ REDIS_URL: env.REDIS_URL });
    const run = await driveRotation(redisRotator, ctx);
    const newPw = run.rotation.secrets.newPassword!.reveal();
    seen.push(PLATFORM_PW, newPw);
    expect(Object.keys(run.rotation.env).sort()).toEqual(['CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND', 'REDIS_URL']);
    expect(run.rotation.env.CELERY_RESULT_BACKEND!.reveal()).toBe(
      `redis://:${newPw}@127.0.0.1:${withConfig.port}/2?health_check_interval=10`,
    );
    expect(run.rotation.facts.skippedVars).toEqual(['MISSING_URL: not set in the env file']);
    expect(run.rotation.facts.persistence).toBe('config-file');
    expect(run.verify.filter((c) => c.name.endsWith('authenticates')).map((c) => c.ok)).toEqual([true, true, true]);
    expect(run.retired[0]?.ok).toBe(true);

    // The stand-in app: starts with the new URL, refuses to start with the old one.
    const after = await appSetup({ REDIS_URL: run.ctx.env.REDIS_URL });
    expect((await after.routes['GET /api/cache/ping']()).status).toBe(200);
    await expect(appSetup({ REDIS_URL: env.REDIS_URL })).rejects.toThrow(/WRONGPASS/);
    expect((await before.routes['GET /api/cache/ping']()).status).toBe(503);
    await Promise.all([before.close(), after.close()]);

    const conf = readFileSync(withConfig.configFile!, 'utf8');
    expect(conf).not.toContain(PLATFORM_PW);
    expect(conf).not.toContain(sha256(PLATFORM_PW));
    expect(conf).toContain(`#${sha256(newPw)}`);
    await withConfig.restart();
    expect(await (await withConfig.connect(newPw)).quit()).toBe('OK');
    await expectRefused(withConfig, PLATFORM_PW);
    produced.push(JSON.stringify(run.rotation), JSON.stringify(run.verify), JSON.stringify(run.retired), ...ctx.logged);
  });
});

describe('no secret leaks', () => {
  it('logs, facts, checks, errors, rotations, argv and redis logs never hold a password', async () => {
    const ctx = appCtx({ REDIS_URL: withAclFile.url('wrong-password-9', 'app') });
    const failed = await redisRotator.preflight(ctx);
    produced.push(JSON.stringify(failed), ...ctx.logged);
    await redisRotator
      .generate(ctx)
      .catch((error: Error) => produced.push(error.message, String(error.stack), inspect(error, { depth: 5 })));
    // A step that fails after a change must not carry ioredis's error (it lists the command's arguments).
    const rotation = await redisRotator.generate(appCtx({ REDIS_URL: withAclFile.url(await readAppPassword(), 'app') }));
    seen.push(rotation.secrets.newPassword!.reveal());
    const noAdmin = testContext<RedisSecretConfig>({
      config: { kind: 'redis' },
      env: { REDIS_URL: withAclFile.url(await readAppPassword(), 'app') },
    });
    const denied = await redisRotator.apply(noAdmin, rotation).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(denied).toMatchObject({ code: 'REDIS_ADMIN_DENIED' });
    expect((denied as Error).cause).toBeUndefined();
    produced.push(inspect(denied, { depth: 5 }), JSON.stringify(denied), ...noAdmin.logged);
    produced.push(
      readFileSync(withAclFile.logFile, 'utf8'),
      readFileSync(withConfig.logFile, 'utf8'),
      withAclFile.argv().join(' '),
      withConfig.argv().join(' '),
    );
    const text = produced.join('\n');
    expect(text.length).toBeGreaterThan(1000);
    for (const secret of new Set([...seen, 'wrong-password-9', ADMIN_PW])) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(encodeURIComponent(secret));
    }
  });
});

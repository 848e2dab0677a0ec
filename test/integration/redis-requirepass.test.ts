// Strategy `requirepass` on a redis-server with a config file, and a server with neither an aclfile nor a config
// file (persistence refused unless allowUnpersisted).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisRotator } from '../../src/secrets/redis/index.js';
import type { RedisSecretConfig } from '../../src/secrets/redis/kind.js';
import { testContext } from '../helpers/context.js';
import { driveRotation, type PrivateRedis, startPrivateRedis, switchedEnv } from '../helpers/private-redis.js';

const CONF_PW = 'requirepass-old-1';
const BARE_PW = 'bare-server-old-1';
let withConfig: PrivateRedis;
let bare: PrivateRedis;
const produced: string[] = [];
const seen = new Set<string>([CONF_PW, BARE_PW]);

beforeAll(async () => {
  [withConfig, bare] = await Promise.all([
    startPrivateRedis({ mode: 'config-file', password: CONF_PW, requirepassInConfig: true }),
    startPrivateRedis({ mode: 'none', password: BARE_PW }),
  ]);
});

afterAll(async () => {
  await Promise.all([withConfig?.stop(), bare?.stop()]);
});

const ok = async (server: PrivateRedis, password: string) => expect(await (await server.connect(password)).quit()).toBe('OK');
const refused = (server: PrivateRedis, password: string) => expect(server.connect(password)).rejects.toThrow(/WRONGPASS/);

describe('requirepass with a config file', () => {
  it('undoApply puts the old password back (also twice)', async () => {
    const ctx = testContext<RedisSecretConfig>({
      config: { kind: 'redis', strategy: 'requirepass' },
      env: { REDIS_URL: withConfig.url(CONF_PW) },
    });
    const rotation = await redisRotator.generate(ctx);
    const newPw = rotation.secrets.newPassword!.reveal();
    seen.add(newPw);
    await redisRotator.apply(ctx, rotation);
    await refused(withConfig, CONF_PW); // no overlap: that is the caveat
    const resumed = { ...ctx, env: switchedEnv(ctx.env, rotation) };
    await redisRotator.undoApply(resumed, rotation);
    await redisRotator.undoApply(resumed, rotation);
    await ok(withConfig, CONF_PW);
    await refused(withConfig, newPw);
    produced.push(JSON.stringify(rotation), ...ctx.logged);
  });

  it('rotates, warns that there is no overlap, keeps old connections, survives a restart', async () => {
    const app = await withConfig.connect(CONF_PW);
    await app.set('k', 'v');
    const ctx = testContext<RedisSecretConfig>({
      config: { kind: 'redis', strategy: 'requirepass' },
      env: { REDIS_URL: withConfig.url(CONF_PW) },
    });
    const run = await driveRotation(redisRotator, ctx, async () => {
      expect(await app.ping()).toBe('PONG');
    });
    const newPw = run.rotation.secrets.newPassword!.reveal();
    seen.add(newPw);
    expect(ctx.logged.join('\n')).toMatch(/requirepass leaves the default user exactly one password/);
    expect(run.preflight.facts).toMatchObject({ user: 'default', strategy: 'requirepass', persistence: 'config-file', keysBefore: 1 });
    expect(run.verify.every((c) => c.ok)).toBe(true);
    expect(run.retired[0]?.ok).toBe(true);
    const conf = readFileSync(withConfig.configFile!, 'utf8');
    expect(conf).not.toContain(CONF_PW);
    await withConfig.restart();
    await ok(withConfig, newPw);
    await refused(withConfig, CONF_PW);
    app.disconnect();
    produced.push(JSON.stringify(run.rotation), JSON.stringify(run.preflight), JSON.stringify(run.verify), ...ctx.logged);
  });

  it('refuses a user other than default', async () => {
    const ctx = testContext<RedisSecretConfig>({
      config: { kind: 'redis', strategy: 'requirepass' },
      env: { REDIS_URL: withConfig.url('whatever-pw', 'app') },
    });
    const result = await redisRotator.preflight(ctx);
    expect(result.checks.find((c) => c.name === 'strategy fits the user')).toMatchObject({ ok: false, hint: expect.stringMatching(/acl/) });
    await expect(redisRotator.generate(ctx)).rejects.toThrow(/strategy requirepass changes the default user/);
    produced.push(JSON.stringify(result));
  });
});

describe('a server with neither an aclfile nor a config file', () => {
  it('preflight refuses a nopass user: Redis accepts any password for it', async () => {
    const admin = await bare.connect(BARE_PW);
    await admin.call('ACL', 'SETUSER', 'free', 'on', 'nopass', '~*', '+@all');
    await admin.quit();
    const ctx = testContext<RedisSecretConfig>({
      config: { kind: 'redis', allowUnpersisted: true },
      env: { REDIS_URL: bare.url('anything-goes', 'free') },
    });
    const result = await redisRotator.preflight(ctx);
    expect(result.checks.find((c) => c.name === 'admin may change the password')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/nopass/),
    });
    seen.add('anything-goes');
    produced.push(JSON.stringify(result), ...ctx.logged);
  });

  it('preflight refuses and says why, unless allowUnpersisted', async () => {
    const ctx = testContext<RedisSecretConfig>({ config: { kind: 'redis' }, env: { REDIS_URL: bare.url(BARE_PW) } });
    const refusedRun = await redisRotator.preflight(ctx);
    const persistence = refusedRun.checks.find((c) => c.name === 'the change survives a Redis restart');
    expect(persistence).toMatchObject({ ok: false, detail: 'the server has neither an aclfile nor a config file' });
    expect(persistence?.hint).toMatch(/--allow-unpersisted \(secrets\.redis\.allowUnpersisted\)/);
    expect(refusedRun.facts?.persistence).toBe('none');

    const allowed = testContext<RedisSecretConfig>({
      config: { kind: 'redis', allowUnpersisted: true },
      env: { REDIS_URL: bare.url(BARE_PW) },
    });
    const run = await driveRotation(redisRotator, allowed);
    seen.add(run.rotation.secrets.newPassword!.reveal());
    expect(run.verify.every((c) => c.ok)).toBe(true);
    expect(allowed.logged.join('\n')).toMatch(/NOT persisted/);
    await refused(bare, BARE_PW);
    produced.push(JSON.stringify(refusedRun), JSON.stringify(run.rotation), ...ctx.logged, ...allowed.logged);
  });

  it('verifyCurrent checks every URL and changes nothing; nothing leaks', async () => {
    const ctx = testContext<RedisSecretConfig>({
      config: { kind: 'redis', alsoUpdate: ['CELERY_BROKER_URL'] },
      env: { REDIS_URL: bare.url('not-the-password'), CELERY_BROKER_URL: bare.url('not-the-password', '', 1) },
    });
    const checks = await redisRotator.verifyCurrent(ctx);
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['REDIS_URL authenticates', false],
      ['CELERY_BROKER_URL authenticates', false],
    ]);
    seen.add('not-the-password');
    produced.push(
      JSON.stringify(checks),
      readFileSync(withConfig.logFile, 'utf8'),
      readFileSync(bare.logFile, 'utf8'),
      withConfig.argv().join(' '),
      bare.argv().join(' '),
    );
    const text = produced.join('\n');
    for (const secret of seen) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(encodeURIComponent(secret));
    }
  });
});

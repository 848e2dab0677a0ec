// The dotenvx kind's crash points, walked one by one (#20 item 2): the run is stopped after each step it journals (the
// state a kill -9 leaves), then what `rotate resume` does from there is done (undo before verify: the target restored
// from its backup, then undoApply; forward after verify: retire). At every point the real dotenvx CLI must read the
// file with what .env.keys holds, and after the resume .env.keys holds exactly one key, the one that opens the file.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { checksOf } from '../../src/engine/checks.js';
import { SecretValue } from '../../src/secret-value.js';
import { dotenvxRotator } from '../../src/secrets/dotenvx/index.js';
import type { DotenvxSecretConfig } from '../../src/secrets/dotenvx/kind.js';
import type { Rotation } from '../../src/secrets/types.js';
import { openEnvFileTarget } from '../../src/target/envfile.js';
import { scratchDir } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { dotenvxEncrypt, dotenvxGet } from '../helpers/dotenvx.js';

const VALUES = { APP_ENV: 'production', JWT_SECRET: 'jwt-secret-value-0123456789abcdef' };

type Step = 'apply' | 'write-target' | 'verify' | 'retire';
const STEPS: Step[] = ['apply', 'write-target', 'verify', 'retire'];

async function scene(file = '.env', env = 'DOTENV_PUBLIC_KEY') {
  const dir = scratchDir('rotate-dotenvx-crash-');
  const path = join(dir, file);
  writeFileSync(path, 'APP_ENV=production\nJWT_SECRET=jwt-secret-value-0123456789abcdef\n', { mode: 0o600 });
  await dotenvxEncrypt(dir, file);
  const target = openEnvFileTarget([path]);
  const ctx = testContext<DotenvxSecretConfig>({ config: { kind: 'dotenvx', env, services: ['app'] } });
  ctx.location = path;
  ctx.files = [path];
  ctx.env = (await target.read()).values;
  const privateName = env.replace('PUBLIC', 'PRIVATE');
  const keys = () => (dotenv.parse(readFileSync(join(dir, '.env.keys'), 'utf8'))[privateName] ?? '').split(',');
  return { dir, path, target, ctx, keys };
}

describe('a dotenvx keypair rotation stopped after each step, then resumed', () => {
  it.each(STEPS)('stopped after %s: dotenvx reads the file all along; after the resume one key opens it', async (last) => {
    const { dir, path, target, ctx, keys } = await scene();
    const before = readFileSync(path, 'utf8');
    const [oldKey] = keys();
    const rotation: Rotation = await dotenvxRotator.generate(ctx);
    let backup: Buffer | undefined;

    // The run, as the engine orders it, up to and including `last`.
    for (const step of STEPS.slice(0, STEPS.indexOf(last) + 1)) {
      if (step === 'apply') await dotenvxRotator.apply(ctx, rotation);
      if (step === 'write-target') {
        backup = await target.backup();
        const changes = Object.fromEntries(Object.entries(rotation.env).map(([k, v]) => [k, v?.reveal() ?? null]));
        ctx.env = (await target.write(changes)).values;
      }
      if (step === 'verify') expect(checksOf(await dotenvxRotator.verify(ctx, rotation)).every((c) => c.ok)).toBe(true);
      if (step === 'retire') await dotenvxRotator.retire(ctx, rotation);
    }
    // The state a kill leaves after `last` (each earlier state is another case's): dotenvx reads every value with
    // what .env.keys holds.
    expect(await dotenvxGet(dir)).toMatchObject(VALUES);

    // `rotate resume`: forward once verify is done, else undo (target from its backup first, then undoApply).
    const forward = STEPS.indexOf(last) >= STEPS.indexOf('verify');
    if (forward) {
      await dotenvxRotator.retire(ctx, rotation); // again after a kill in retire: idempotent
      expect(keys()).toEqual([rotation.secrets.new!.reveal()]);
      expect((await dotenvxRotator.verifyRetired(ctx, rotation)).every((c) => c.ok)).toBe(true);
    } else {
      if (backup) await target.restore(backup, Object.keys(rotation.env));
      await dotenvxRotator.undoApply(ctx, rotation);
      await dotenvxRotator.undoApply(ctx, rotation); // a kill in the undo, resumed: idempotent
      expect(readFileSync(path, 'utf8')).toBe(before);
      expect(keys()).toEqual([oldKey]);
    }
    expect(await dotenvxGet(dir)).toMatchObject(VALUES);
    ctx.env = (await target.read()).values;
    expect((await dotenvxRotator.verifyCurrent(ctx)).every((c) => c.ok)).toBe(true);
  });

  it('an undo that finds the file still under the new key keeps both keys: the file stays readable', async () => {
    const { dir, target, ctx, keys } = await scene();
    const rotation = await dotenvxRotator.generate(ctx);
    await dotenvxRotator.apply(ctx, rotation);
    await target.write({ DOTENV_PUBLIC_KEY: rotation.env.DOTENV_PUBLIC_KEY!.reveal() });
    await dotenvxRotator.undoApply(ctx, rotation);
    expect(keys()).toHaveLength(2);
    expect(await dotenvxGet(dir)).toMatchObject(VALUES);
    expect(new SecretValue(keys()[0]!).equals(rotation.secrets.new)).toBe(true);
  });

  it('.env.production (DOTENV_PUBLIC_KEY_PRODUCTION): the whole run, read by dotenvx get -f .env.production', async () => {
    const { dir, target, ctx, keys } = await scene('.env.production', 'DOTENV_PUBLIC_KEY_PRODUCTION');
    expect((await dotenvxRotator.preflight(ctx)).checks.every((c) => c.ok)).toBe(true);
    const rotation = await dotenvxRotator.generate(ctx);
    await dotenvxRotator.apply(ctx, rotation);
    ctx.env = (await target.write({ DOTENV_PUBLIC_KEY_PRODUCTION: rotation.env.DOTENV_PUBLIC_KEY_PRODUCTION!.reveal() })).values;
    expect(checksOf(await dotenvxRotator.verify(ctx, rotation)).every((c) => c.ok)).toBe(true);
    await dotenvxRotator.retire(ctx, rotation);
    expect(keys()).toEqual([rotation.secrets.new!.reveal()]);
    expect(await dotenvxGet(dir, '.env.production')).toMatchObject(VALUES);
  });
});

// A `random` secret as a user rotates it: the built CLI, a real env file, the stand-in app restarted for real, and
// nothing rotate wrote or printed holding the old or the new value.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';

const OLD = 'old-session/secret+0123456789=abcdef#"quoted"';
const JWT = 'unrelated-signing-secret-0123456789-abcdefghijk';
const ENV_TEXT = `APP_ENV=production\nJWT_SECRET=${JWT}\nSESSION_SECRET='${OLD}'\n`;

describe('rotate a random secret end to end', () => {
  let dir: string;
  let app: StandInApp;

  beforeEach(async () => {
    dir = scratchDir('rotate-random-');
    writeFileSync(join(dir, '.env'), ENV_TEXT, { mode: 0o600 });
    app = await standInApp(dir);
    const config = {
      services: {
        backend: {
          restart: `tr "\\0" " " < /proc/$$/cmdline >> child-argv.log; ${app.restartCommand}`,
          health: { url: `${app.url}/healthz`, timeoutSeconds: 20 },
        },
      },
      secrets: {
        session: {
          kind: 'random',
          env: 'SESSION_SECRET',
          alphabet: 'alphanumeric',
          length: 48,
          services: ['backend'],
          verify: { url: `${app.url}/healthz` },
        },
      },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
    await app.start();
  });

  afterEach(async () => {
    await app.stop();
  });

  it('writes a new value of the asked shape, restarts, checks the URL, says what it did not check, and leaks nothing', async () => {
    const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: 'b'.repeat(64) } });
    const dry = await cli(['session', '--dry-run']);
    expect(dry.code).toBe(0);

    const result = await cli(['session', '--yes']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('restarting backend');
    expect(result.stdout).toContain('not verified in the app');
    expect(result.stdout).toContain('not checked: nothing asked the app to use the new value');

    const env = dotenv.parse(readFileSync(join(dir, '.env')));
    const next = env.SESSION_SECRET!;
    expect(next).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(env.JWT_SECRET).toBe(JWT);

    const json = JSON.parse((await cli(['verify', 'session', '--json'])).stdout);
    expect(json.results[0]).toMatchObject({ secret: 'session', kind: 'random' });
    expect(json.results[0].unchecked).toContain('verify.url answered 2xx');
    const history = await cli(['history', '--json']);
    expect(JSON.parse(history.stdout).results[0]).toMatchObject({ secret: 'session', action: 'rotate', result: 'rotated' });

    const texts = {
      ...readTree(join(dir, '.rotate')),
      stdout: dry.stdout + result.stdout + history.stdout + JSON.stringify(json),
      stderr: dry.stderr + result.stderr,
      'child-argv.log': readFileSync(join(dir, 'child-argv.log'), 'utf8'),
      'app.log': app.log(),
    };
    expect(findLeaks(texts, [OLD, next, Buffer.from(OLD).toString('base64'), Buffer.from(next).toString('base64')])).toEqual([]);
    expect(texts['child-argv.log']).toContain('restart.mjs');
  });
});

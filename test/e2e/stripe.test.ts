// `rotate stripe` through the built CLI (dist/bin/rotate.js), against the fake Stripe API in
// this process and the stand-in app restarted for real. The key is handed in by env var or piped stdin.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretValue } from '../../src/secret-value.js';
import { stripeSignatureHeader } from '../../src/secrets/stripe/index.js';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { CLI, type CliResult, findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { type FakeEndpoint, FakeStripe } from '../helpers/fake-stripe.js';

const WEBHOOK_URL = 'https://app.example.com/api/billing/webhook';
const MASTER_KEY = 'b'.repeat(64);

function rotateCli(dir: string, args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY, ...options.env }, input: options.input ?? '' });
}

describe('rotate stripe through the CLI', () => {
  let dir: string;
  let app: StandInApp;
  let fake: FakeStripe;
  let sk: string;
  let endpoint: FakeEndpoint;
  let envText: string;

  beforeEach(async () => {
    dir = scratchDir('rotate-stripe-');
    fake = await FakeStripe.start();
    sk = fake.addKey('acct_A');
    const pk = fake.addKey('acct_A', { type: 'pk' });
    endpoint = fake.addEndpoint('acct_A', {
      url: WEBHOOK_URL,
      enabled_events: ['invoice.paid', 'checkout.session.completed'],
      api_version: '2024-06-20',
    });
    envText = [
      '# billing',
      `STRIPE_SECRET_KEY=${sk}`,
      `STRIPE_PUBLISHABLE_KEY=${pk}`,
      `STRIPE_WEBHOOK_SECRET=${endpoint.secret} # signing secret`,
      'APP_ENV=production',
      '',
    ].join('\n');
    writeFileSync(join(dir, '.env'), envText);
    app = await standInApp(dir);
    const config = {
      services: { backend: { restart: app.restartCommand, health: { url: `${app.url}/healthz`, timeoutSeconds: 20 } } },
      secrets: {
        stripe: {
          kind: 'stripe',
          services: ['backend'],
          apiBase: fake.apiBase,
          webhook: { url: WEBHOOK_URL, verifyUrl: `${app.url}/api/billing/webhook` },
        },
      },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
    await app.start();
  });

  afterEach(async () => {
    await app.stop();
    await fake.close();
  });

  const env = () => dotenv.parse(readFileSync(join(dir, '.env')));
  const postSigned = async (secret: string) => {
    const body = '{"id":"evt_test","object":"event","type":"invoice.paid"}';
    const header = stripeSignatureHeader(body, new SecretValue(secret), Math.floor(Date.now() / 1000));
    return (await fetch(`${app.url}/api/billing/webhook`, { method: 'POST', headers: { 'stripe-signature': header }, body })).status;
  };

  it('rotates with a key piped on stdin; the app follows; nothing leaks', async () => {
    const newSk = fake.addKey('acct_A');
    const result = await rotateCli(dir, ['stripe', '--yes'], { input: `ROTATE_NEW_STRIPE_SECRET_KEY=${newSk}\n` });
    expect(result.code, result.stderr).toBe(0);
    const after = env();
    expect(after.STRIPE_SECRET_KEY).toBe(newSk);
    const [created, ...rest] = fake.endpointsOf('acct_A');
    expect(rest).toEqual([]);
    expect(created!.id).not.toBe(endpoint.id);
    expect(after.STRIPE_WEBHOOK_SECRET).toBe(created!.secret);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(envText.replace(sk, newSk).replace(endpoint.secret, created!.secret));
    expect(await postSigned(created!.secret)).toBe(200);
    expect(await postSigned(endpoint.secret)).toBe(400);

    const verify = await rotateCli(dir, ['verify', 'stripe']);
    expect(verify.code, verify.stderr).toBe(0);

    const texts = {
      ...readTree(join(dir, '.rotate')),
      stdout: result.stdout + verify.stdout,
      stderr: result.stderr + verify.stderr,
      'app.log': app.log(),
      'fake requests': fake.requestLogWithoutAuthorization(),
    };
    expect(findLeaks(texts, fake.issued)).toEqual([]);
  });

  it('refuses a key of another account with exit 1 and leaves the env file and Stripe untouched', async () => {
    const result = await rotateCli(dir, ['stripe', '--yes', '--json'], { env: { ROTATE_NEW_STRIPE_SECRET_KEY: fake.addKey('acct_B') } });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain('STRIPE_ACCOUNT_MISMATCH');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(envText);
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(findLeaks({ stdout: result.stdout, stderr: result.stderr }, fake.issued)).toEqual([]);
  });

  it('a piped stdin that stays open and silent fails after ROTATE_STDIN_TIMEOUT instead of hanging', async () => {
    // A CI runner's stdin: a pipe nobody writes to or closes.
    const child = spawn(process.execPath, [CLI, 'stripe', '--yes'], {
      cwd: dir,
      env: { ...process.env, ROTATE_MASTER_KEY: MASTER_KEY, ROTATE_STDIN_TIMEOUT: '1', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = ''; // the result (stdout) names the error; logs go to stderr
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.destroy();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(code, output).toBe(1);
    expect(output).toContain('[INPUT_TIMEOUT]');
    expect(output).toContain('ROTATE_NEW_STRIPE_SECRET_KEY');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(envText);
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('--due without a handed-in key reports what to do in the Dashboard and changes nothing', async () => {
    const result = await rotateCli(dir, ['--due', '--json']);
    expect(result.stdout + result.stderr).toContain('Dashboard');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(envText);
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    // A due secret that cron cannot rotate is a failure cron monitoring must see (#13.3).
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).results[0]).toMatchObject({ secret: 'stripe', status: 'needs-operator' });
  });

  it('rollback puts the previous key back with a fresh endpoint', async () => {
    const newSk = fake.addKey('acct_A');
    const plan = await rotateCli(dir, ['stripe', '--dry-run', '--json'], { env: { ROTATE_NEW_STRIPE_SECRET_KEY: newSk } });
    const rotation = await rotateCli(dir, ['stripe', '--yes', '--json'], { env: { ROTATE_NEW_STRIPE_SECRET_KEY: newSk } });
    expect(rotation.code, rotation.stderr).toBe(0);
    // The dry run listed the steps the run took.
    expect(JSON.parse(rotation.stdout).results[0].steps).toEqual(JSON.parse(plan.stdout).results[0].steps);
    const rotated = env();
    const back = await rotateCli(dir, ['rollback', 'stripe', '--yes']);
    expect(back.code, back.stderr).toBe(0);
    const after = env();
    expect(after.STRIPE_SECRET_KEY).toBe(sk);
    const [fresh, ...rest] = fake.endpointsOf('acct_A');
    expect(rest).toEqual([]);
    expect(after.STRIPE_WEBHOOK_SECRET).toBe(fresh!.secret);
    expect(after.STRIPE_WEBHOOK_SECRET).not.toBe(rotated.STRIPE_WEBHOOK_SECRET);
    expect(await postSigned(fresh!.secret)).toBe(200);
    expect(findLeaks({ ...readTree(join(dir, '.rotate')), stdout: back.stdout, stderr: back.stderr }, fake.issued)).toEqual([]);
  });
});

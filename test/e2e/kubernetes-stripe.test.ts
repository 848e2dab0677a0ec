// `rotate stripe` on the platform's Kubernetes layout: the Stripe keys live in the Secret; the backend's pods verify
// webhook signatures with the STRIPE_WEBHOOK_SECRET they read at start. The fake Stripe API runs in this process.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretValue } from '../../src/secret-value.js';
import { stripeSignatureHeader } from '../../src/secrets/stripe/index.js';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube } from '../helpers/fake-kube.js';
import { FakeStripe } from '../helpers/fake-stripe.js';

const NS = 'cryptoorchestrator';
const SECRET = 'cryptoorchestrator-secrets';
const WEBHOOK_URL = 'https://app.example.com/api/billing/webhook';
const masterKey = '9'.repeat(64);

// One retry, as in kubernetes.test.ts: under load a pod may start slower than a deadline; the assertions stay as they are.
describe('rotate stripe through a Kubernetes Secret', { retry: 1 }, () => {
  let kube: FakeKube;
  let fake: FakeStripe;
  let dir: string;

  beforeAll(async () => {
    dir = scratchDir('rotate-kube-stripe-');
    kube = await startFakeKube(dir);
    fake = await FakeStripe.start();
  });

  afterAll(async () => {
    await kube?.stop();
    await fake?.close();
  });

  it('writes the handed-in key and the new webhook secret in one patch; the rolled-out pods accept only the new signature', async () => {
    const sk = fake.addKey('acct_A');
    const pk = fake.addKey('acct_A', { type: 'pk' });
    const endpoint = fake.addEndpoint('acct_A', { url: WEBHOOK_URL, enabled_events: ['invoice.paid'], api_version: '2024-06-20' });
    kube.createSecret(NS, SECRET, {
      STRIPE_SECRET_KEY: sk,
      STRIPE_PUBLISHABLE_KEY: pk,
      STRIPE_WEBHOOK_SECRET: endpoint.secret,
      APP_ENV: 'production',
    });
    kube.createWorkload('Deployment', NS, 'backend', {
      secret: SECRET,
      replicas: 2,
      readinessPath: '/healthz',
      progressDeadlineSeconds: 60,
    });
    const backend = await kube.service('Deployment', NS, 'backend');
    await kube.until(() => kube.rolledOut('Deployment', NS, 'backend'));
    const postSigned = async (secret: string) => {
      const body = '{"id":"evt_test","object":"event","type":"invoice.paid"}';
      const header = stripeSignatureHeader(body, new SecretValue(secret), Math.floor(Date.now() / 1000));
      const response = await fetch(`${backend.url}/api/billing/webhook`, { method: 'POST', headers: { 'stripe-signature': header }, body });
      await response.body?.cancel();
      return response.status;
    };
    expect(await postSigned(endpoint.secret)).toBe(200);
    kube.kubeconfig(join(dir, 'kubeconfig'), [{ name: 'prod', token: ADMIN_TOKEN }]);
    const config = {
      target: { type: 'kubernetes', namespace: NS, secret: SECRET, context: 'prod' },
      services: {
        backend: { kubernetes: { kind: 'Deployment', name: 'backend' }, health: { url: `${backend.url}/healthz`, timeoutSeconds: 30 } },
      },
      secrets: {
        stripe: {
          services: ['backend'],
          apiBase: fake.apiBase,
          webhook: { url: WEBHOOK_URL, verifyUrl: `${backend.url}/api/billing/webhook` },
        },
      },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
    const newSk = fake.addKey('acct_A');
    const result = await runCli(['stripe', '--yes'], {
      cwd: dir,
      env: { KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir, ROTATE_MASTER_KEY: masterKey, ROTATE_NEW_STRIPE_SECRET_KEY: newSk },
    });
    expect(result.code, result.stderr).toBe(0);
    const values = kube.secretValues(NS, SECRET);
    const [created, ...rest] = fake.endpointsOf('acct_A');
    expect(rest).toEqual([]);
    expect(values).toEqual({
      STRIPE_SECRET_KEY: newSk,
      STRIPE_PUBLISHABLE_KEY: pk,
      STRIPE_WEBHOOK_SECRET: created?.secret,
      APP_ENV: 'production',
    });
    expect(kube.api.writes().filter((r) => r.path.endsWith(`/secrets/${SECRET}`))).toHaveLength(1);
    expect(await postSigned(created?.secret as string)).toBe(200);
    expect(await postSigned(endpoint.secret)).toBe(400);
    const texts = { ...readTree(join(dir, '.rotate')), output: result.stdout + result.stderr };
    expect(findLeaks(texts, [...fake.issued, ADMIN_TOKEN, masterKey])).toEqual([]);
  });
});

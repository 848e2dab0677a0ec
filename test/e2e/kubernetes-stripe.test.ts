// `rotate stripe` on the platform's Kubernetes layout: the Stripe keys live in the Secret; the backend's pods verify
// webhook signatures with the STRIPE_WEBHOOK_SECRET they read at start. The fake Stripe API runs in this process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretValue } from '../../src/secret-value.js';
import { stripeSignatureHeader } from '../../src/secrets/stripe/index.js';
import { KUBE_E2E, type KubeProject, kubeService, NS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import { FakeStripe } from '../helpers/fake-stripe.js';

const WEBHOOK_URL = 'https://app.example.com/api/billing/webhook';

describe('rotate stripe through a Kubernetes Secret', KUBE_E2E, () => {
  let p: KubeProject;
  let fake: FakeStripe;

  beforeAll(async () => {
    p = await startKubeProject({ prefix: 'rotate-kube-stripe-', masterKey: '9'.repeat(64) });
    fake = await FakeStripe.start();
  });

  afterAll(async () => {
    await p?.stop();
    await fake?.close();
  });

  it('writes the handed-in key and the new webhook secret in one patch; the rolled-out pods accept only the new signature', async () => {
    const sk = fake.addKey('acct_A');
    const pk = fake.addKey('acct_A', { type: 'pk' });
    const endpoint = fake.addEndpoint('acct_A', { url: WEBHOOK_URL, enabled_events: ['invoice.paid'], api_version: '2024-06-20' });
    const backend = await p.deploy('backend', {
      values: { STRIPE_SECRET_KEY: sk, STRIPE_PUBLISHABLE_KEY: pk, STRIPE_WEBHOOK_SECRET: endpoint.secret, APP_ENV: 'production' },
      replicas: 2,
      readinessPath: '/healthz',
    });
    const postSigned = async (secret: string) => {
      const body = '{"id":"evt_test","object":"event","type":"invoice.paid"}';
      const header = stripeSignatureHeader(body, new SecretValue(secret), Math.floor(Date.now() / 1000));
      const response = await fetch(`${backend.url}/api/billing/webhook`, { method: 'POST', headers: { 'stripe-signature': header }, body });
      await response.body?.cancel();
      return response.status;
    };
    expect(await postSigned(endpoint.secret)).toBe(200);
    p.writeConfig({
      services: { backend: kubeService('Deployment', 'backend', `${backend.url}/healthz`) },
      secrets: {
        stripe: {
          services: ['backend'],
          apiBase: fake.apiBase,
          webhook: { url: WEBHOOK_URL, verifyUrl: `${backend.url}/api/billing/webhook` },
        },
      },
    });
    const newSk = fake.addKey('acct_A');
    const result = await p.cli(['stripe', '--yes'], { ROTATE_NEW_STRIPE_SECRET_KEY: newSk });
    expect(result.code, result.stderr).toBe(0);
    const [created, ...rest] = fake.endpointsOf('acct_A');
    expect(rest).toEqual([]);
    expect(p.kube.secretValues(NS, SECRET)).toEqual({
      STRIPE_SECRET_KEY: newSk,
      STRIPE_PUBLISHABLE_KEY: pk,
      STRIPE_WEBHOOK_SECRET: created?.secret,
      APP_ENV: 'production',
    });
    expect(p.secretWrites()).toHaveLength(1);
    expect(await postSigned(created?.secret as string)).toBe(200);
    expect(await postSigned(endpoint.secret)).toBe(400);
    expect(p.leaks([result.stdout, result.stderr], fake.issued)).toEqual([]);
  });
});

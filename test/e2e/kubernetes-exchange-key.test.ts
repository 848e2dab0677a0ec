// `rotate exchange-key` on the platform's Kubernetes layout: the key and DATABASE_URL live in the Secret; rotate
// re-encrypts the rows itself (reading DATABASE_URL from the Secret), then the backend, whose pods decrypt, rolls out.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube } from '../helpers/fake-kube.js';
import { scratchDatabase } from '../helpers/scratch-database.js';

const NS = 'cryptoorchestrator';
const SECRET = 'cryptoorchestrator-secrets';
const OLD = 'default-encryption-key-change-in-production-32-chars!';
const masterKey = 'f'.repeat(64);
const database = scratchDatabase('rotate_kube_xke');

// One retry, as in kubernetes.test.ts: under load a pod may start slower than a deadline; the assertions stay as they are.
describe('rotate exchange-key through a Kubernetes Secret', { retry: 1 }, () => {
  let kube: FakeKube;
  let dir: string;

  beforeAll(async () => {
    const db = await database.create();
    await db.query(`CREATE TABLE exchange_api_keys (id serial PRIMARY KEY,
      api_key_encrypted text NOT NULL, api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL)`);
    dir = scratchDir('rotate-kube-xke-');
    kube = await startFakeKube(dir);
  });

  afterAll(async () => {
    await kube?.stop();
    await database.drop();
  });

  it('re-encrypts every row, writes the new key in the Secret, and the rolled-out pods decrypt every row', async () => {
    kube.createSecret(NS, SECRET, { EXCHANGE_KEY_ENCRYPTION_KEY: OLD, DATABASE_URL: database.url });
    kube.createWorkload('Deployment', NS, 'backend', {
      secret: SECRET,
      replicas: 2,
      readinessPath: '/healthz',
      progressDeadlineSeconds: 60,
    });
    const backend = await kube.service('Deployment', NS, 'backend');
    await kube.until(() => kube.rolledOut('Deployment', NS, 'backend'));
    // The app stores keys the way the platform does: encrypted under the key it read at start.
    for (let i = 0; i < 5; i++) {
      const body = JSON.stringify({ api_key: `key-${i}`, api_secret: `secret-${i}-ü`, passphrase: i % 2 ? null : `pass-${i}` });
      expect((await fetch(`${backend.url}/api/exchange-keys`, { method: 'POST', body })).status).toBe(201);
    }
    kube.kubeconfig(join(dir, 'kubeconfig'), [{ name: 'prod', token: ADMIN_TOKEN }]);
    const config = {
      target: { type: 'kubernetes', namespace: NS, secret: SECRET, context: 'prod' },
      services: {
        backend: { kubernetes: { kind: 'Deployment', name: 'backend' }, health: { url: `${backend.url}/healthz`, timeoutSeconds: 30 } },
      },
      secrets: { 'exchange-key': { services: ['backend'], verify: { url: `${backend.url}/api/exchange-keys/check` } } },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
    const result = await runCli(['exchange-key', '--yes'], {
      cwd: dir,
      env: { KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir, ROTATE_MASTER_KEY: masterKey },
    });
    expect(result.code, result.stderr).toBe(0);
    const next = kube.secretValues(NS, SECRET).EXCHANGE_KEY_ENCRYPTION_KEY as string;
    expect(next).not.toBe(OLD);
    expect(kube.secretValues(NS, SECRET).DATABASE_URL).toBe(database.url);
    expect(kube.rolledOut('Deployment', NS, 'backend')).toBe(true);
    const check = await fetch(`${backend.url}/api/exchange-keys/check`);
    expect(check.status).toBe(200);
    expect(await check.json()).toEqual({ rows: 5, values: 13 });
    const texts = { ...readTree(join(dir, '.rotate')), output: result.stdout + result.stderr };
    expect(findLeaks(texts, [OLD, next, ADMIN_TOKEN, masterKey])).toEqual([]);
  });
});

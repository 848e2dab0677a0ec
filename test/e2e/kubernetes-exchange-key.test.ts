// `rotate exchange-key` on the platform's Kubernetes layout: the key and DATABASE_URL live in the Secret; rotate
// re-encrypts the rows itself (reading DATABASE_URL from the Secret), then the backend, whose pods decrypt, rolls out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBE_E2E, type KubeProject, kubeService, NS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import { scratchDatabase } from '../helpers/scratch-database.js';

const OLD = 'default-encryption-key-change-in-production-32-chars!';
const database = scratchDatabase('rotate_kube_xke');

describe('rotate exchange-key through a Kubernetes Secret', KUBE_E2E, () => {
  let p: KubeProject;

  beforeAll(async () => {
    const db = await database.create();
    await db.query(`CREATE TABLE exchange_api_keys (id serial PRIMARY KEY,
      api_key_encrypted text NOT NULL, api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL)`);
    p = await startKubeProject({ prefix: 'rotate-kube-xke-', masterKey: 'f'.repeat(64) });
  });

  afterAll(async () => {
    await p?.stop();
    await database.drop();
  });

  it('re-encrypts every row, writes the new key in the Secret, and the rolled-out pods decrypt every row', async () => {
    const backend = await p.deploy('backend', {
      values: { EXCHANGE_KEY_ENCRYPTION_KEY: OLD, DATABASE_URL: database.url },
      replicas: 2,
      readinessPath: '/healthz',
    });
    // The app stores keys the way the platform does: encrypted under the key it read at start.
    for (let i = 0; i < 5; i++) {
      const body = JSON.stringify({ api_key: `key-${i}`, api_secret: `secret-${i}-ü`, passphrase: i % 2 ? null : `pass-${i}` });
      expect((await fetch(`${backend.url}/api/exchange-keys`, { method: 'POST', body })).status).toBe(201);
    }
    p.writeConfig({
      services: { backend: kubeService('Deployment', 'backend', `${backend.url}/healthz`) },
      secrets: { 'exchange-key': { services: ['backend'], verify: { url: `${backend.url}/api/exchange-keys/check` } } },
    });
    const result = await p.cli(['exchange-key', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    const next = p.kube.secretValues(NS, SECRET).EXCHANGE_KEY_ENCRYPTION_KEY as string;
    expect(next).not.toBe(OLD);
    expect(p.kube.secretValues(NS, SECRET).DATABASE_URL).toBe(database.url);
    expect(p.kube.rolledOut('Deployment', NS, 'backend')).toBe(true);
    const check = await fetch(`${backend.url}/api/exchange-keys/check`);
    expect(check.status).toBe(200);
    expect(await check.json()).toEqual({ rows: 5, values: 13 });
    expect(p.leaks([result.stdout, result.stderr], [OLD, next])).toEqual([]);
  });
});

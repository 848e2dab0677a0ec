import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/cli.js';

// #22 item 11: a kubeconfig `exec` credential plugin is a program from the kubeconfig; it must not inherit rotate's
// master key, the hand-over values or the admin URLs (restart commands already do not).

const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

describe('kubeconfig exec plugins', () => {
  it('run without ROTATE_MASTER_KEY, ROTATE_NEW_*, admin URLs and the names the config withholds; cloud variables stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotate-exec-plugin-'));
    const dump = join(dir, 'plugin-env');
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\nenv > ${dump}\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: c, cluster: { server: "http://127.0.0.1:${await freePort()}" } }]`,
        `users: [{ name: u, user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, interactiveMode: Never, env: [{ name: FROM_KUBECONFIG, value: "1" }] } } }]`,
        'contexts: [{ name: x, context: { cluster: c, user: u } }]',
        'current-context: x',
      ].join('\n'),
    );
    Object.assign(process.env, {
      KUBECONFIG: kubeconfig,
      ROTATE_MASTER_KEY: 'master-key-value-1',
      ROTATE_NEW_STRIPE_SECRET_KEY: 'sk_test_handover',
      ROTATE_DATABASE_ADMIN_URL: 'postgresql://admin:pw@db/app',
      MY_STORE_URL: 'postgresql://store:pw@db/rotate',
      AWS_SECRET_ACCESS_KEY: 'the-plugin-needs-this',
    });
    const { kubeClients, withholdFromKubePlugins } = await import('../../src/kubernetes/client.js');
    withholdFromKubePlugins(['MY_STORE_URL']);
    const clients = await kubeClients('x');
    await clients.core.readNamespacedSecret({ name: 's', namespace: 'n' }).catch(() => undefined);
    expect(existsSync(dump)).toBe(true);
    const env = readFileSync(dump, 'utf8');
    expect(env).not.toMatch(/ROTATE_MASTER_KEY|ROTATE_NEW_|ROTATE_DATABASE_ADMIN_URL|MY_STORE_URL/);
    expect(env).toContain('AWS_SECRET_ACCESS_KEY=the-plugin-needs-this');
    expect(env).toContain('FROM_KUBECONFIG=1');
  });
});

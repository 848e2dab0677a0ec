// The fake cluster answers the real `kubectl rollout status` (kubectl 1.32) for every workload kind: a list, then a
// watch that streams the status changes of a rollout in progress until it completes. A watch whose response headers
// never come would keep kubectl from exiting at all (past its own --timeout), so every run here has a deadline.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../helpers/cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube } from '../helpers/fake-kube.js';
import { writeKubeconfig } from '../helpers/fake-kube-config.js';

const run = promisify(execFile);
const NS = 'watch-ns';

describe('kubectl rollout status against the fake cluster', () => {
  let kube: FakeKube;
  let kubeconfig: string;
  const rolloutStatus = async (workload: string) => {
    try {
      const args = ['rollout', 'status', workload, '-n', NS, '--timeout=60s'];
      const { stdout, stderr } = await run('/usr/bin/kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 90_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    const dir = scratchDir('rotate-kube-watch-');
    kube = await startFakeKube(dir);
    kubeconfig = writeKubeconfig(join(dir, 'kubeconfig'), await kube.api.listenTls(), [{ name: 'admin', token: ADMIN_TOKEN }]);
    kube.createSecret(NS, 'app', { JWT_SECRET: 'watch-test-value-0123456789' });
  });
  afterAll(async () => {
    await kube?.stop();
  });

  it('waits for a StatefulSet and a DaemonSet that are still starting, then says they rolled out', async () => {
    // Created just before kubectl runs: their pods become ready while it watches.
    kube.createWorkload('StatefulSet', NS, 'db', { secret: 'app', replicas: 2 });
    kube.createWorkload('DaemonSet', NS, 'agent', { secret: 'app' });
    const [sts, ds] = await Promise.all([rolloutStatus('statefulset/db'), rolloutStatus('daemonset/agent')]);
    expect(sts).toMatchObject({ code: 0, stderr: '' });
    expect(sts.stdout).toMatch(/statefulset rolling update complete 2 pods at revision db-\w+\.\.\.\n$/);
    expect(ds).toMatchObject({ code: 0, stdout: expect.stringMatching(/daemon set "agent" successfully rolled out\n$/), stderr: '' });
    const watches = kube.api.requests.filter((r) => r.path.startsWith(`/apis/apps/v1/namespaces/${NS}/`) && r.status === 200);
    expect(watches.map((r) => r.path)).toEqual(
      expect.arrayContaining([`/apis/apps/v1/namespaces/${NS}/statefulsets`, `/apis/apps/v1/namespaces/${NS}/daemonsets`]),
    );
  });
});

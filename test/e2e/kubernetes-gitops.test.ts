// GitOps with an encrypted source (target.source.git): rotate writes the dotenvx-encrypted env file in a clone of the
// repository a controller watches, commits only that file and pushes it to a local bare repository; it never patches
// the live Secret itself. The test's syncer plays the controller: when the bare repository's branch moves it checks
// the file out, decrypts it and applies the Secret to the fake API server with the real kubectl. rotate's converge step
// waits for the live Secret, then restarts, verifies and retires. A syncer that does not apply: pushed, not converged
// (exit 1, the old value valid), and `rotate resume` finishes once it does. A plaintext source is refused (exit 2).
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvFileValues } from '../../src/envfile/values.js';
import { authStatus } from '../helpers/app.js';
import { CLI } from '../helpers/cli.js';
import { dotenvxEncrypt } from '../helpers/dotenvx.js';
import { ADMIN_TOKEN } from '../helpers/fake-kube.js';
import { writeKubeconfig } from '../helpers/fake-kube-config.js';
import { KUBE_E2E, type KubeProject, kubeService, NS, ROLLOUT_SECONDS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import type { Service } from '../helpers/fake-kube-service.js';
import { journalSteps, waitUntil } from '../helpers/wait.js';

const run = promisify(execFile);
const OLD = 'old-signing-secret-0123456789-abcdefghijklmnop';
const SOURCE = 'k8s/.env.production';

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await run('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })).stdout.trim();

/** The test's GitOps controller: applies the source of the bare repository's branch whenever that branch moves. */
class Syncer {
  #applied = '';
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  applies = 0;

  constructor(
    readonly bare: string,
    readonly checkout: string,
    readonly privateKey: string,
    readonly kubectlConfig: string,
  ) {}

  async syncOnce(): Promise<void> {
    const head = await git(this.bare, 'rev-parse', 'refs/heads/main');
    if (head === this.#applied) return;
    await git(this.checkout, 'fetch', '--quiet', 'origin');
    await git(this.checkout, 'reset', '--quiet', '--hard', head);
    const { values } = await readEnvFileValues(join(this.checkout, SOURCE), {
      environment: { DOTENV_PRIVATE_KEY_PRODUCTION: this.privateKey },
    });
    const stringData = Object.fromEntries(Object.entries(values).filter(([key]) => !key.startsWith('DOTENV_PUBLIC_KEY')));
    const manifest = join(this.checkout, '..', 'applied-secret.json');
    writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: SECRET, namespace: NS }, stringData }), {
      mode: 0o600,
    });
    await run('/usr/bin/kubectl', ['apply', '-f', manifest], { env: { ...process.env, KUBECONFIG: this.kubectlConfig } });
    writeFileSync(manifest, '');
    this.#applied = head;
    this.applies++;
  }

  /** Watches the branch: an event (the branch moved) triggers the apply, polled with `git rev-parse`. */
  start(): void {
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      this.syncOnce()
        .catch(() => {})
        .finally(() => {
          this.#busy = false;
        });
    }, 100);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#busy) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('GitOps: an encrypted source committed and pushed, applied by a controller', KUBE_E2E, () => {
  let p: KubeProject;
  let service: Service;
  let bare: string;
  let work: string;
  let syncer: Syncer;

  const config = (convergeSeconds: number, file = `work/${SOURCE}`) =>
    writeFileSync(
      join(p.dir, 'rotate.config.json'),
      JSON.stringify({
        target: {
          type: 'kubernetes',
          namespace: NS,
          secret: SECRET,
          context: 'prod',
          source: { file, git: { remote: 'origin', branch: 'main' }, convergeSeconds },
        },
        services: { backend: kubeService('Deployment', 'backend', `${service.url}/healthz`) },
        secrets: { jwt: { services: ['backend'], verify: { url: `${service.url}/api/auth/me` } } },
      }),
    );
  const live = () => p.kube.secretValues(NS, SECRET).JWT_SECRET as string;
  const history = async () => git(bare, 'log', '-p', '--all', '--format=%H %s%n%b');
  /** The value the pushed source holds, decrypted as the controller does (from the bare repository's branch). */
  const sourceValue = async () => {
    await git(join(p.dir, 'deploy'), 'fetch', '--quiet', 'origin');
    const text = await git(bare, 'show', `main:${SOURCE}`);
    mkdirSync(join(p.dir, 'pushed'), { recursive: true });
    const file = join(p.dir, 'pushed', '.env.production');
    writeFileSync(file, `${text}\n`, { mode: 0o600 });
    const { values } = await readEnvFileValues(file, { environment: { DOTENV_PRIVATE_KEY_PRODUCTION: syncer.privateKey } });
    return values.JWT_SECRET;
  };

  beforeAll(async () => {
    p = await startKubeProject({ prefix: 'rotate-kube-gitops-', masterKey: 'e'.repeat(64) });
    const kubectlConfig = writeKubeconfig(join(p.dir, 'kubectl-config'), await p.kube.api.listenTls(), [
      { name: 'prod', token: ADMIN_TOKEN },
    ]);
    bare = join(p.dir, 'remote.git');
    work = join(p.dir, 'work');
    await git(p.dir, 'init', '--quiet', '--bare', '-b', 'main', bare);
    await git(p.dir, 'clone', '--quiet', bare, work);
    await git(work, 'config', 'user.name', 'Platform');
    await git(work, 'config', 'user.email', 'platform@example.com');
    await git(work, 'checkout', '--quiet', '-b', 'main');
    await run('mkdir', ['-p', join(work, 'k8s')]);
    writeFileSync(join(work, SOURCE), `# the Secret, encrypted with dotenvx\nJWT_SECRET=${OLD}\nAPP_MODE=prod\n`);
    await dotenvxEncrypt(join(work, 'k8s'), '.env.production');
    writeFileSync(join(work, '.gitignore'), '.env.keys\n');
    writeFileSync(join(work, 'k8s', 'secrets.yaml'), 'placeholder\n');
    await git(work, 'add', '.gitignore', SOURCE, 'k8s/secrets.yaml');
    await git(work, 'commit', '--quiet', '-m', 'the encrypted Secret');
    await git(work, 'push', '--quiet', 'origin', 'main');
    const keys = readFileSync(join(work, 'k8s', '.env.keys'), 'utf8');
    const privateKey = /DOTENV_PRIVATE_KEY_PRODUCTION="?([0-9a-f]+)/.exec(keys)![1]!;
    await git(p.dir, 'clone', '--quiet', bare, join(p.dir, 'deploy'));
    syncer = new Syncer(bare, join(p.dir, 'deploy'), privateKey, kubectlConfig);
    p.kube.store.namespaces.add(NS);
    await syncer.syncOnce();
    expect(live()).toBe(OLD);
    service = await p.deploy('backend', { replicas: 1, readinessPath: '/healthz' });
    config(60);
  });
  afterAll(async () => {
    await syncer?.stop();
    await p?.stop();
  });

  it('pushes the encrypted file only, waits for the controller, then restarts, verifies and retires', async () => {
    const dry = await p.cli(['jwt', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).results[0].steps).toEqual(expect.arrayContaining(['write-target', 'converge', 'restart']));
    const headBefore = await git(bare, 'rev-parse', 'main');
    syncer.start();
    const result = await p.cli(['jwt', '--yes', '--json']);
    await syncer.stop();
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout).results[0];
    expect(out.status).toBe('rotated');
    expect(out.steps).toEqual(expect.arrayContaining(['write-target', 'converge', 'restart', 'verify', 'retire']));
    // rotate never wrote the Secret: the controller (the syncer's kubectl apply) did.
    expect(p.secretWrites().filter((r) => !r.dryRun && r.contentType?.startsWith('application/merge-patch'))).toEqual([]);
    const next = live();
    expect(next).not.toBe(OLD);
    expect(await authStatus(service.url, next)).toBe(200);
    expect(await authStatus(service.url, OLD)).toBe(401);
    // One commit, touching only the source, naming the secret and the run, holding no value.
    expect(await git(bare, 'rev-list', '--count', `${headBefore}..main`)).toBe('1');
    expect(await git(bare, 'show', '--name-only', '--format=', 'main')).toBe(SOURCE);
    const message = await git(bare, 'log', '-1', '--format=%B', 'main');
    expect(message).toContain('jwt');
    expect(message).toContain(out.runId);
    expect(await git(work, 'status', '--porcelain')).toBe('');
    expect(p.leaks([dry.stdout, dry.stderr, result.stdout, result.stderr, await history()], [OLD, next])).toEqual([]);
  });

  it('a controller that does not apply: pushed, not converged (exit 1, old value valid); resume finishes it', async () => {
    config(2);
    const current = live();
    const result = await p.cli(['jwt', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(1);
    const out = JSON.parse(result.stdout).results[0];
    expect(out.status).toBe('not-converged');
    expect(out.error.code).toBe('SOURCE_NOT_CONVERGED');
    expect(out.error.message).toContain('pushed, not converged');
    expect(live()).toBe(current);
    expect(await authStatus(service.url, current)).toBe(200);
    const status = await p.cli(['status']);
    expect(status.stdout).toContain('pushed, not converged');
    expect((await p.cli(['status', '--check'])).code).toBe(1);
    const metrics = await p.cli(['metrics']);
    expect(metrics.stdout).toContain('rotate_secret_not_converged{secret="jwt",kind="jwt"} 1');
    const recorded = await p.cli(['history', '--json']);
    expect(recorded.stdout).toContain('not-converged');

    // The controller catches up; resume waits for it and goes on from there.
    syncer.start();
    await p.kube.until(() => live() !== current);
    const resumed = await p.cli(['resume', '--json']);
    await syncer.stop();
    expect(resumed.code, resumed.stderr).toBe(0);
    const next = live();
    expect(await authStatus(service.url, next)).toBe(200);
    expect(await authStatus(service.url, current)).toBe(401);
    expect((await p.cli(['status', '--check'])).code).toBe(0);
    expect((await p.cli(['metrics'])).stdout).toContain('rotate_secret_not_converged{secret="jwt",kind="jwt"} 0');
    expect(
      p.leaks(
        [result.stdout, result.stderr, status.stdout, metrics.stdout, recorded.stdout, resumed.stdout, resumed.stderr, await history()],
        [current, next],
      ),
    ).toEqual([]);
  });

  it('killed while it waits for the controller (converge): resume waits again and finishes; Secret, source and store agree', async () => {
    config(120);
    const current = live();
    const headBefore = await git(bare, 'rev-parse', 'main');
    const child = spawn(process.execPath, [CLI, 'jwt', '--yes'], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: '1', KUBECONFIG: p.kubeconfig, HOME: p.dir, ROTATE_MASTER_KEY: 'e'.repeat(64) },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('close', resolve));
    const waiting = await waitUntil(() => journalSteps(p.dir, 'jwt').some((s) => s.name === 'converge'), 60_000, 20);
    child.kill('SIGKILL');
    await exited;
    expect(waiting).toBe(true);
    // Pushed, never applied: the live Secret still holds the old value, the app runs with it.
    expect(await git(bare, 'rev-list', '--count', `${headBefore}..main`)).toBe('1');
    expect(live()).toBe(current);
    expect((await p.cli(['status'])).code).toBe(3);

    syncer.start();
    const resumed = await p.cli(['resume', '--json']);
    await syncer.stop();
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).results[0].status).toBe('rotated');
    const next = live();
    expect(next).not.toBe(current);
    expect(await sourceValue()).toBe(next);
    expect(journalSteps(p.dir, 'jwt')).toEqual([]);
    expect(await authStatus(service.url, next)).toBe(200);
    expect(await authStatus(service.url, current)).toBe(401);
    const check = await p.cli(['status', '--check']);
    expect(check.code, check.stdout).toBe(0);
    expect(p.leaks([resumed.stdout, resumed.stderr, check.stdout, await history()], [current, next])).toEqual([]);
  });

  it('a rollout that fails after convergence rolls back: the file back in a second commit, the live Secret back at once', async () => {
    config(120);
    const current = live();
    const headBefore = await git(bare, 'rev-parse', 'main');
    const progressDeadline = (seconds: number) => {
      const deployment = p.kube.workload('Deployment', NS, 'backend') as { spec: { progressDeadlineSeconds: number } };
      deployment.spec.progressDeadlineSeconds = seconds;
      p.kube.store.write({ resource: 'deployments', namespace: NS, name: 'backend' }, deployment as never);
    };
    p.kube.crashWhen('Deployment', NS, 'backend', (podEnv) => podEnv.JWT_SECRET !== current);
    progressDeadline(5);
    await p.kube.until(() => p.kube.rolledOut('Deployment', NS, 'backend'));
    let secretWrites = 0;
    // The controller's apply of the new value is the first write; from the rollback on, rollouts get their time back.
    p.kube.api.options.beforeWrite = (key, dryRun) => {
      if (!dryRun && key.resource === 'secrets' && ++secretWrites === 2) progressDeadline(ROLLOUT_SECONDS);
    };
    syncer.start();
    try {
      const result = await p.cli(['jwt', '--yes', '--json']);
      expect(result.code, result.stderr).toBe(1);
      const out = JSON.parse(result.stdout).results[0];
      expect(out.status).toBe('rolled-back');
      // Converged (the controller applied the new value), then the rollout failed: the rollback came after convergence.
      expect(out.steps).toEqual(expect.arrayContaining(['write-target', 'converge']));
      expect(JSON.stringify(out)).toContain('ProgressDeadlineExceeded');
      await p.kube.until(() => live() === current);
      expect(await sourceValue()).toBe(current);
      // The rotation's commit and the one that puts the file back, both pushed.
      expect(await git(bare, 'rev-list', '--count', `${headBefore}..main`)).toBe('2');
      await p.kube.until(() => p.kube.rolledOut('Deployment', NS, 'backend'));
      expect(await authStatus(service.url, current)).toBe(200);
      expect(journalSteps(p.dir, 'jwt')).toEqual([]);
      const status = JSON.parse((await p.cli(['status', '--json'])).stdout).results[0];
      expect(status).toMatchObject({ drifted: false, lastRunOk: false });
      expect(p.leaks([result.stdout, result.stderr, await history()], [current])).toEqual([]);
    } finally {
      await syncer.stop();
      p.kube.api.options.beforeWrite = undefined;
      p.kube.crashWhen('Deployment', NS, 'backend', () => false);
      progressDeadline(ROLLOUT_SECONDS);
    }
  });

  it('a plaintext source with git: exit 2, nothing committed, nothing written', async () => {
    const current = live();
    writeFileSync(
      join(work, 'k8s', 'secrets.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${SECRET}\n  namespace: ${NS}\nstringData:\n  JWT_SECRET: ${current}\n  APP_MODE: prod\n`,
    );
    await git(work, 'commit', '--quiet', '-am', 'a plaintext manifest (kept local, never pushed)');
    const headBefore = await git(work, 'rev-parse', 'HEAD');
    const fileBefore = readFileSync(join(work, 'k8s', 'secrets.yaml'), 'utf8');
    config(2, 'work/k8s/secrets.yaml');
    const dry = await p.cli(['jwt', '--dry-run']);
    expect(dry.code).not.toBe(0);
    expect(dry.stdout).toContain('holds the values in plaintext');
    const result = await p.cli(['jwt', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('GIT_PLAINTEXT');
    expect(await git(work, 'rev-parse', 'HEAD')).toBe(headBefore);
    expect(readFileSync(join(work, 'k8s', 'secrets.yaml'), 'utf8')).toBe(fileBefore);
    expect(live()).toBe(current);
    await git(work, 'reset', '--quiet', '--hard', 'origin/main');
    expect(p.leaks([dry.stdout, dry.stderr, result.stdout, result.stderr], [current])).toEqual([]);
  });
});

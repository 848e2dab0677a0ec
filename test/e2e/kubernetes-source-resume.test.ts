// A Secret deployed from a manifest (target.source), its rotation SIGKILLed at each step after the source is written,
// then `rotate resume`: the live Secret, the manifest and the store agree afterwards (no journal left, no drift, the
// history's last record the outcome). The kills wait on the journal and on held shell commands, never on sleeps.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifestSecret } from '../../src/kubernetes/manifest.js';
import { CLI } from '../helpers/cli.js';
import { KUBE_E2E, type KubeProject, NS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import { HELD_RESTART, heldInRestart, journalSteps, releaseRestart, waitUntil } from '../helpers/wait.js';

const OLD = 'old-signing-secret-0123456789-abcdefghijklmnop';
const manifest = (value: string) =>
  `# k8s/secrets.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: ${SECRET}\n  namespace: ${NS}\ntype: Opaque\nstringData:\n  JWT_SECRET: ${value}\n  APP_MODE: prod\n`;
/** An afterVerify hook held like HELD_RESTART, on its own files: the run has verified and not yet retired or recorded. */
const HELD_HOOK = 'touch hook-held; i=0; while [ ! -e hook-release ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done';

describe('a Secret with its source, killed after the source is written, then resumed', KUBE_E2E, () => {
  let p: KubeProject;
  let manifestPath: string;
  const live = () => p.kube.secretValues(NS, SECRET).JWT_SECRET as string;
  const inSource = () => readManifestSecret(readFileSync(manifestPath, 'utf8'), manifestPath, { namespace: NS, name: SECRET }).JWT_SECRET;
  const journals = () => (existsSync(join(p.dir, '.rotate/journal')) ? journalSteps(p.dir, 'jwt') : []);

  beforeAll(async () => {
    p = await startKubeProject({ prefix: 'rotate-kube-source-kill-', masterKey: 'c'.repeat(64) });
    mkdirSync(join(p.dir, 'k8s'));
    manifestPath = join(p.dir, 'k8s', 'secrets.yaml');
    p.kube.store.namespaces.add(NS);
    writeFileSync(
      join(p.dir, 'rotate.config.json'),
      JSON.stringify({
        target: { type: 'kubernetes', namespace: NS, secret: SECRET, context: 'prod', source: { file: 'k8s/secrets.yaml' } },
        services: { backend: { restart: `${HELD_RESTART}true` } },
        secrets: { jwt: { services: ['backend'], hooks: { afterVerify: { run: HELD_HOOK, idempotent: true } } } },
      }),
    );
  });
  afterAll(async () => {
    await p?.stop();
  });

  /** A fresh start: the Secret and its manifest hold `value`; nothing held, nothing released. */
  function reset(value: string): void {
    const key = { resource: 'secrets' as const, namespace: NS, name: SECRET };
    const data = { JWT_SECRET: Buffer.from(value).toString('base64'), APP_MODE: Buffer.from('prod').toString('base64') };
    const current = p.kube.store.get(key);
    if (current) p.kube.store.write(key, { ...current, data } as never);
    else p.kube.createSecret(NS, SECRET, { JWT_SECRET: value, APP_MODE: 'prod' });
    writeFileSync(manifestPath, manifest(value));
    for (const name of ['restarting', 'release', 'hook-held', 'hook-release']) rmSync(join(p.dir, name), { force: true });
  }

  /** Runs `rotate jwt --yes`, SIGKILLs it once `reached()` holds, then lets every held shell go. */
  async function killWhen(reached: () => boolean): Promise<{ steps: string[] }> {
    const child = spawn(process.execPath, [CLI, 'jwt', '--yes'], {
      cwd: p.dir,
      env: { ...process.env, NO_COLOR: '1', KUBECONFIG: p.kubeconfig, HOME: p.dir, ROTATE_MASTER_KEY: 'c'.repeat(64) },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('close', resolve));
    const got = await waitUntil(reached, 90_000, 20);
    child.kill('SIGKILL');
    await exited;
    const steps = journals().map((s) => `${s.name}:${s.state}`);
    releaseRestart(p.dir);
    writeFileSync(join(p.dir, 'hook-release'), '');
    expect(got, `never reached the kill point: ${steps.join(' ')}`).toBe(true);
    return { steps };
  }

  /** After resume: the Secret and the manifest hold one value, the store has no journal, and no place drifted. */
  async function agree(expected: 'old' | 'new', before: string): Promise<string> {
    const value = live();
    expect(inSource()).toBe(value);
    expect(expected === 'old' ? value === before : value !== before).toBe(true);
    expect(journals()).toEqual([]);
    const check = await p.cli(['status', '--check', '--json']);
    const row = JSON.parse(check.stdout).results[0];
    expect(row).toMatchObject({ drifted: false, needsPerson: false, unreadable: [] });
    return value;
  }

  it('killed in the restart (source and Secret written, nothing verified): resume undoes both', async () => {
    reset(OLD);
    const { steps } = await killWhen(() => heldInRestart(p.dir) && journals().some((s) => s.name === 'restart'));
    expect(steps).toContain('write-target:done');
    const written = live();
    expect(written).not.toBe(OLD); // the kill came after the write: both places hold the new value
    expect(inSource()).toBe(written);
    expect((await p.cli(['status'])).code).toBe(3);
    const resumed = await p.cli(['resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).results[0].status).toBe('undone');
    await agree('old', OLD);
    const history = JSON.parse((await p.cli(['history', '--json'])).stdout).results;
    expect(history[0]).toMatchObject({ secret: 'jwt', action: 'resume', result: 'rolled-back' });
    expect(p.leaks([resumed.stdout, resumed.stderr], [OLD, written])).toEqual([]);
  });

  it('killed after verify (in the afterVerify hook): resume finishes, both keep the new value', async () => {
    reset(OLD);
    releaseRestart(p.dir); // the restart goes through; the hook holds
    const { steps } = await killWhen(() => existsSync(join(p.dir, 'hook-held')));
    expect(steps).toEqual(expect.arrayContaining(['write-target:done', 'restart:done', 'verify:done']));
    const written = live();
    expect(written).not.toBe(OLD);
    expect(inSource()).toBe(written);
    const resumed = await p.cli(['resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).results[0].status).toBe('rotated');
    expect(await agree('new', OLD)).toBe(written);
    const history = JSON.parse((await p.cli(['history', '--json'])).stdout).results;
    expect(history[0]).toMatchObject({ secret: 'jwt', result: 'rotated' });
    const check = await p.cli(['status', '--check']);
    expect(check.code, check.stdout).toBe(0);
    expect(p.leaks([resumed.stdout, resumed.stderr, check.stdout], [OLD, written])).toEqual([]);
  });
});

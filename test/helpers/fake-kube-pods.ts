// Pods of the fake cluster are real processes: the container's image names what to run (the stand-in app or a
// redis-server), its env is read from the Secret when the pod starts (envFrom / secretKeyRef, as the kubelet
// does), and a readiness probe decides when it may serve.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, ROOT } from './cli.js';

/** Images the fake can run. */
export const IMAGES = { app: 'rotate-test/stand-in-app', redis: 'redis:7-alpine' } as const;

export interface PodOptions {
  name: string;
  workload: string;
  revision: string;
  image: string;
  env: Record<string, string>;
  /** HTTP path probed for readiness; none: ready once the port accepts connections. */
  readinessPath?: string;
  /** The app refuses to start with this env (exits 1 at once, before it listens): a crash-looping pod. */
  crashes?: boolean;
  dir: string;
  onChange: () => void;
}

export class Pod {
  readonly name: string;
  readonly revision: string;
  port = 0;
  ready = false;
  exited = false;
  terminating = false;
  #child: ChildProcess | undefined;
  #probe: NodeJS.Timeout | undefined;

  constructor(readonly options: PodOptions) {
    this.name = options.name;
    this.revision = options.revision;
  }

  get log(): string {
    return join(this.options.dir, `${this.name}.log`);
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const out = openSync(this.log, 'a');
    const { image, env } = this.options;
    if (this.options.crashes) {
      // What a pod looks like whose app rejects its config at start: the process exits, the pod is never ready.
      this.#child = spawn(
        process.execPath,
        ['-e', 'console.error("refusing to start: the configuration is not usable"); process.exit(1)'],
        {
          stdio: ['ignore', out, out],
        },
      );
    } else if (image === IMAGES.redis) {
      // `--requirepass $(REDIS_PASSWORD)` as the platform's manifest says, but through stdin so that no password
      // sits in a process list; like the platform, the server has no config file (CONFIG REWRITE fails).
      // Its data folder is named after the pod, so a StatefulSet's redis-0 finds its data again (the PVC).
      const data = join(this.options.dir, `${this.name}-data`);
      mkdirSync(data, { recursive: true });
      this.#child = spawn('redis-server', ['-'], { stdio: ['pipe', out, out] });
      const password = env.REDIS_PASSWORD ? `requirepass "${env.REDIS_PASSWORD}"\n` : '';
      this.#child.stdin?.end(`port ${this.port}\nbind 127.0.0.1\ndir "${data}"\nsave ""\nappendonly yes\n${password}`);
    } else if (image === IMAGES.app) {
      // The stand-in app reads an env file: the pod's environment, written for this pod only.
      const envFile = join(this.options.dir, `${this.name}.env`);
      writeFileSync(
        envFile,
        Object.entries(env)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join('\n'),
        { mode: 0o600 },
      );
      this.#child = spawn(process.execPath, [join(ROOT, 'test/app/server.mjs'), '--env-file', envFile, '--port', String(this.port)], {
        stdio: ['ignore', out, out],
      });
    } else {
      throw new Error(`the fake cluster cannot run image ${image}`);
    }
    this.#child.on('exit', () => {
      this.exited = true;
      this.ready = false;
      clearInterval(this.#probe);
      this.options.onChange();
    });
    this.#probe = setInterval(() => void this.#checkReady(), 50);
  }

  async #checkReady(): Promise<void> {
    if (this.ready || this.exited || this.terminating) return;
    const ok = this.options.readinessPath ? await httpOk(this.port, this.options.readinessPath) : await tcpOpen(this.port);
    if (ok && !this.ready && !this.exited && !this.terminating) {
      this.ready = true;
      clearInterval(this.#probe);
      this.options.onChange();
    }
  }

  /** SIGTERM, then SIGKILL after 5 s, as the kubelet's grace period. */
  async stop(): Promise<void> {
    this.terminating = true;
    this.ready = false;
    clearInterval(this.#probe);
    const child = this.#child;
    if (!child || this.exited) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

async function httpOk(port: number, path: string): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The container env as the kubelet builds it: envFrom secretRef, then env (value or valueFrom.secretKeyRef). */
export function containerEnv(
  container: {
    envFrom?: { secretRef?: { name: string } }[];
    env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  },
  readSecret: (name: string) => Record<string, string> | undefined,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (!source.secretRef) continue;
    const data = readSecret(source.secretRef.name);
    if (!data) throw new Error(`secret "${source.secretRef.name}" not found`);
    Object.assign(env, data);
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.secretKeyRef;
    if (!ref) env[entry.name] = entry.value ?? '';
    else {
      const value = readSecret(ref.name)?.[ref.key];
      if (value === undefined) throw new Error(`couldn't find key ${ref.key} in Secret ${ref.name}`);
      env[entry.name] = value;
    }
  }
  return env;
}

// The workload controllers of the fake cluster. A change of a workload's pod template (what `kubectl rollout
// restart` does with its restartedAt annotation) starts new pods that read the Secret as they start; old pods keep
// serving until new ones are ready (Deployment: maxSurge/maxUnavailable, 1/0 by default here, as the platform sets);
// a rollout that makes no progress for progressDeadlineSeconds ends in Progressing=False ProgressDeadlineExceeded.
// StatefulSets replace one pod at a time from the highest ordinal; DaemonSets one pod per node, old before new.
import { createHash } from 'node:crypto';
import type { JsonObject } from './fake-kube-patch.js';
import { containerEnv, Pod } from './fake-kube-pods.js';
import { deploymentStatus, slotStatus } from './fake-kube-rollout-status.js';
import type { ObjectStore, ResourceKey } from './fake-kube-store.js';

type Template = { metadata?: JsonObject; spec: { containers: any[] } };

export interface WorkloadState {
  key: ResourceKey;
  pods: Pod[];
  revision: string;
  /** StatefulSet: the revision every pod ran before the current rollout. */
  currentRevision: string;
  lastProgress: number;
  failed: boolean;
  counter: number;
}

export class Controller {
  readonly workloads = new Map<string, WorkloadState>();
  /** Per workload: the pod env its app refuses to start with (a test's broken release). */
  readonly crashWhen = new Map<string, (env: Record<string, string>) => boolean>();
  #busy = new Set<string>();
  #again = new Set<string>();
  #timer: NodeJS.Timeout;

  constructor(
    readonly store: ObjectStore,
    readonly podDir: string,
    /** Nodes for DaemonSets: one pod each. */
    readonly nodes = 1,
  ) {
    store.on('change', (key: ResourceKey) => {
      // A CronJob's pods come from its Jobs, which the fake does not run.
      if (key.resource !== 'secrets' && key.resource !== 'cronjobs') this.kick(key);
    });
    // Progress deadlines pass without any event; a slow tick notices them.
    this.#timer = setInterval(() => {
      for (const state of this.workloads.values()) this.kick(state.key);
    }, 100);
  }

  #stopped = false;

  kick(key: ResourceKey): void {
    if (this.#stopped) return;
    const id = `${key.resource}/${key.namespace}/${key.name}`;
    if (this.#busy.has(id)) {
      this.#again.add(id);
      return;
    }
    this.#busy.add(id);
    void this.#reconcile(key, id)
      .catch((error) => console.error('fake-kube controller:', error))
      .finally(() => {
        this.#busy.delete(id);
        if (this.#again.delete(id)) this.kick(key);
      });
  }

  async #reconcile(key: ResourceKey, id: string): Promise<void> {
    const object = this.store.get(key);
    if (!object) return;
    const spec = object.spec as JsonObject & { template: Template };
    const revision = createHash('sha256').update(JSON.stringify(spec.template)).digest('hex').slice(0, 10);
    let state = this.workloads.get(id);
    if (!state) {
      state = { key, pods: [], revision, currentRevision: revision, lastProgress: Date.now(), failed: false, counter: 0 };
      this.workloads.set(id, state);
    }
    if (state.revision !== revision) {
      state.revision = revision;
      state.lastProgress = Date.now();
      state.failed = false;
    }
    const progressed = key.resource === 'deployments' ? await this.#rollDeployment(state, spec) : await this.#rollSlots(state, spec);
    if (progressed) state.lastProgress = Date.now();
    const generation = Number((object.metadata as JsonObject).generation);
    const status =
      key.resource === 'deployments'
        ? deploymentStatus(state, spec, generation)
        : slotStatus(state, key.resource, this.#slots(key, spec), generation);
    this.store.writeStatus(key, status);
  }

  #slots(key: ResourceKey, spec: JsonObject): number {
    if (key.resource !== 'daemonsets') return Number(spec.replicas ?? 1);
    // The fake's nodes carry no labels: a DaemonSet with a nodeSelector schedules no pod.
    const selector = ((spec.template as JsonObject | undefined)?.spec as JsonObject | undefined)?.nodeSelector;
    return selector && Object.keys(selector as JsonObject).length ? 0 : this.nodes;
  }

  /** Deployment rolling update; says whether anything moved (for the progress deadline). */
  async #rollDeployment(state: WorkloadState, spec: JsonObject & { template: Template }): Promise<boolean> {
    const replicas = Number(spec.replicas ?? 1);
    const rolling = ((spec.strategy as JsonObject | undefined)?.rollingUpdate ?? {}) as JsonObject;
    const maxSurge = Number(rolling.maxSurge ?? 1);
    const maxUnavailable = Number(rolling.maxUnavailable ?? 0);
    let moved = false;
    const live = () => state.pods.filter((p) => !p.terminating);
    // Old pods that serve nothing (a failed earlier rollout) go first: they do not count toward availability.
    for (const pod of live().filter((p) => p.revision !== state.revision && !p.ready)) moved = this.#terminate(state, pod) || moved;
    for (const pod of live()
      .filter((p) => p.revision === state.revision)
      .slice(replicas))
      moved = this.#terminate(state, pod) || moved;
    while (live().filter((p) => p.revision === state.revision).length < replicas && live().length < replicas + maxSurge) {
      await this.#startPod(state, spec.template, `${state.key.name}-${state.revision}-${++state.counter}`);
      moved = true;
    }
    let available = live().filter((p) => p.ready).length;
    for (const pod of live().filter((p) => p.revision !== state.revision && p.ready)) {
      if (available - 1 < replicas - maxUnavailable) break;
      this.#terminate(state, pod);
      available--;
      moved = true;
    }
    return moved || this.#newlyReady(state);
  }

  /** StatefulSet / DaemonSet: one slot at a time, the outdated pod stops before its replacement starts. */
  async #rollSlots(state: WorkloadState, spec: JsonObject & { template: Template }): Promise<boolean> {
    const slots = this.#slots(state.key, spec);
    const name = (slot: number) => (state.key.resource === 'statefulsets' ? `${state.key.name}-${slot}` : `${state.key.name}-node${slot}`);
    const live = () => state.pods.filter((p) => !p.terminating);
    if (state.pods.some((p) => p.terminating)) return false;
    for (let slot = 0; slot < slots; slot++) {
      if (!live().some((p) => p.name === name(slot))) {
        await this.#startPod(state, spec.template, name(slot));
        return true;
      }
      if (!live().find((p) => p.name === name(slot))?.ready) break;
    }
    const outdated = live()
      .filter((p) => p.revision !== state.revision)
      .sort((a, b) => b.name.localeCompare(a.name));
    const broken = outdated.find((p) => !p.ready);
    if (broken || (outdated[0] && live().every((p) => p.ready))) {
      this.#terminate(state, (broken ?? outdated[0]) as Pod);
      return true;
    }
    if (outdated.length === 0 && live().length === slots && live().every((p) => p.ready)) state.currentRevision = state.revision;
    return this.#newlyReady(state);
  }

  #seenReady = new WeakSet<Pod>();
  #newlyReady(state: WorkloadState): boolean {
    let any = false;
    for (const pod of state.pods.filter((p) => p.ready && !this.#seenReady.has(p))) {
      this.#seenReady.add(pod);
      any = true;
    }
    return any;
  }

  async #startPod(state: WorkloadState, template: Template, name: string): Promise<void> {
    const container = template.spec.containers[0];
    const pod = new Pod({
      name,
      workload: state.key.name,
      revision: state.revision,
      image: container.image,
      env: {},
      readinessPath: container.readinessProbe?.httpGet?.path,
      dir: this.podDir,
      onChange: () => this.kick(state.key),
    });
    state.pods.push(pod);
    try {
      pod.options.env = containerEnv(container, (secret) => this.#secretData(state.key.namespace, secret));
      pod.options.crashes =
        this.crashWhen.get(`${state.key.resource}/${state.key.namespace}/${state.key.name}`)?.(pod.options.env) ?? false;
    } catch {
      // CreateContainerConfigError: the pod exists but never runs.
      pod.exited = true;
      return;
    }
    await pod.start();
  }

  #secretData(namespace: string, name: string): Record<string, string> | undefined {
    const secret = this.store.get({ resource: 'secrets', namespace, name });
    if (!secret) return undefined;
    const data = (secret.data ?? {}) as Record<string, string>;
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  }

  #terminate(state: WorkloadState, pod: Pod): boolean {
    if (pod.terminating) return false;
    void pod.stop().then(() => {
      state.pods = state.pods.filter((p) => p !== pod);
      this.kick(state.key);
    });
    return true;
  }

  /** Ready pods of a workload, for the Service. */
  readyPods(namespace: string, kindPlural: string, name: string): Pod[] {
    return this.workloads.get(`${kindPlural}/${namespace}/${name}`)?.pods.filter((p) => p.ready && !p.terminating) ?? [];
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await Promise.all([...this.workloads.values()].flatMap((state) => state.pods.map((pod) => pod.stop())));
  }
}

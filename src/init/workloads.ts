// What `rotate init --from-kubernetes` needs from the workloads of a namespace: which of them read the Secret (whole,
// through envFrom or a volume, or key by key through secretKeyRef or a volume's items), in a shape the discovery
// shares with compose services. Pure: the caller lists the objects (src/init/cluster.ts).
import type { ComposeService } from './compose.js';

/** The workload kinds rotate rolls out (services.<name>.kubernetes.kind). */
export type RolloutKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export type ListedKind = RolloutKind | 'CronJob';

/** A workload as the API lists it (only the fields read here). */
export interface ListedWorkload {
  kind: ListedKind;
  metadata?: { name?: string; namespace?: string };
  // biome-ignore lint/suspicious/noExplicitAny: a pod spec as the API returns it, read defensively.
  spec?: any;
}

/** A workload that reads the Secret and is rolled out when a value it reads changes. */
export interface KubeWorkload {
  kind: RolloutKind;
  name: string;
  namespace: string;
  /** As the discovery sees it: its name in the config, its image, the keys it reads. */
  consumer: ComposeService;
  /** How it reads the Secret: `envFrom`, `secretKeyRef REDIS_PASSWORD`, `volume secrets`. */
  via: string[];
}

/** A Secret owner that writes it back (src/kubernetes/ownership.ts), with the fix a person chooses. */
export interface InitOwner {
  kind: string;
  evidence: string;
  fix: string;
}

export interface KubernetesSource {
  namespace: string;
  secret: string;
  /** Written as target.context when set. */
  context?: string;
  workloads: KubeWorkload[];
  /** Sentences about what reads the Secret and is not rolled out (CronJobs). */
  notes: string[];
  owners: InitOwner[];
}

// biome-ignore lint/suspicious/noExplicitAny: pod spec fields as the API returns them.
type Any = any;

/** The pod spec of a workload: the template's, or a CronJob's job template's. */
const podSpecOf = (workload: ListedWorkload): Any =>
  workload.kind === 'CronJob' ? workload.spec?.jobTemplate?.spec?.template?.spec : workload.spec?.template?.spec;

interface Reading {
  whole: boolean;
  keys: Set<string>;
  via: string[];
  image: string;
}

/** What one pod spec reads of the Secret `secret`; undefined when nothing. */
export function readingOf(podSpec: Any, secret: string): Reading | undefined {
  const reading: Reading = { whole: false, keys: new Set(), via: [], image: '' };
  const containers: Any[] = [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])];
  const note = (via: string, image: string) => {
    if (!reading.via.includes(via)) reading.via.push(via);
    if (!reading.image && typeof image === 'string') reading.image = image;
  };
  for (const container of containers) {
    for (const source of container?.envFrom ?? []) {
      if (source?.secretRef?.name !== secret) continue;
      reading.whole = true;
      note(source.prefix ? `envFrom (prefix ${source.prefix})` : 'envFrom', container.image);
    }
    for (const variable of container?.env ?? []) {
      const ref = variable?.valueFrom?.secretKeyRef;
      if (ref?.name !== secret || typeof ref.key !== 'string') continue;
      reading.keys.add(ref.key);
      note(`secretKeyRef ${ref.key}`, container.image);
    }
  }
  const image = containers[0]?.image ?? '';
  for (const volume of podSpec?.volumes ?? []) {
    const sources: Any[] = [
      ...(volume?.secret?.secretName === secret ? [{ items: volume.secret.items }] : []),
      ...(volume?.projected?.sources ?? []).filter((s: Any) => s?.secret?.name === secret).map((s: Any) => s.secret),
    ];
    for (const source of sources) {
      const items: Any[] | undefined = source.items;
      if (!items?.length) reading.whole = true;
      for (const item of items ?? []) if (typeof item?.key === 'string') reading.keys.add(item.key);
      note(`volume ${volume.name}`, image);
    }
  }
  return reading.via.length ? reading : undefined;
}

/**
 * The workloads that read `secret`, each named once in the config (a name two kinds share gets its kind appended),
 * and a sentence for each CronJob: a Job reads the values of its start, so there is nothing to roll out.
 */
export function secretReaders(listed: ListedWorkload[], secret: string): { workloads: KubeWorkload[]; notes: string[] } {
  const workloads: KubeWorkload[] = [];
  const notes: string[] = [];
  const names = new Map<string, number>();
  for (const item of listed) names.set(item.metadata?.name ?? '', (names.get(item.metadata?.name ?? '') ?? 0) + 1);
  for (const item of listed) {
    const name = item.metadata?.name;
    const reading = name ? readingOf(podSpecOf(item), secret) : undefined;
    if (!name || !reading) continue;
    if (item.kind === 'CronJob') {
      notes.push(
        `CronJob ${name} reads it (${reading.via.join(', ')}): each Job reads the values of its start, so nothing is rolled out; a Job running during a rotation keeps the old values until it ends`,
      );
      continue;
    }
    const configName = (names.get(name) ?? 0) > 1 ? `${name}-${item.kind.toLowerCase()}` : name;
    workloads.push({
      kind: item.kind,
      name,
      namespace: item.metadata?.namespace ?? '',
      via: reading.via,
      consumer: { name: configName, image: reading.image, readsWholeEnvFile: reading.whole, interpolated: reading.keys, ports: new Map() },
    });
  }
  return { workloads, notes };
}

// Whether a rollout is complete, still going, or failed, by the fields `kubectl rollout status` reads
// (kubectl's DeploymentStatusViewer, StatefulSetStatusViewer and DaemonSetStatusViewer).

export interface RolloutState {
  done: boolean;
  /** Why the rollout failed (ProgressDeadlineExceeded), or undefined. */
  failed?: string;
  /** One line for the operator: updated / ready replicas. */
  progress: string;
}

interface Workload {
  metadata?: { generation?: number };
  spec?: { replicas?: number; updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export function rolloutState(kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', object: unknown): RolloutState {
  const w = object as Workload;
  const status = w.status ?? {};
  const observed = (status.observedGeneration ?? 0) >= (w.metadata?.generation ?? 0) && status.observedGeneration !== undefined;
  if (kind === 'DaemonSet') {
    const desired = status.desiredNumberScheduled ?? 0;
    const updated = status.updatedNumberScheduled ?? 0;
    const available = status.numberAvailable ?? 0;
    const progress = `${updated} of ${desired} updated, ${available} available`;
    return { done: observed && updated >= desired && available >= desired, progress };
  }
  const replicas = w.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const ready = status.readyReplicas ?? 0;
  const progress = `${updated} of ${replicas} updated, ${ready} ready`;
  if (kind === 'StatefulSet') {
    const partition = w.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    const done = observed && ready >= replicas && updated >= replicas - partition && status.updateRevision === status.currentRevision;
    return { done, progress };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (observed && progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, failed: `${progressing.message ?? 'no progress'} (ProgressDeadlineExceeded)`, progress };
  }
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const done = observed && updated >= replicas && total <= updated && available >= updated;
  return { done, progress: total > updated ? `${progress}, ${total - updated} old pending termination` : progress };
}

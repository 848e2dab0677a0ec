// The status a workload controller reports: the fields `kubectl rollout status` reads, and the Deployment's
// Available / Progressing conditions (ProgressDeadlineExceeded once no progress was made for progressDeadlineSeconds).
import type { WorkloadState } from './fake-kube-controller.js';
import type { JsonObject } from './fake-kube-patch.js';

const condition = (type: string, status: 'True' | 'False', reason: string, message: string) => ({ type, status, reason, message });

export function deploymentStatus(state: WorkloadState, spec: JsonObject, generation: number): JsonObject {
  const replicas = Number(spec.replicas ?? 1);
  const maxUnavailable = Number(((spec.strategy as JsonObject | undefined)?.rollingUpdate as JsonObject | undefined)?.maxUnavailable ?? 0);
  const deadlineMs = Number(spec.progressDeadlineSeconds ?? 600) * 1000;
  const live = state.pods.filter((p) => !p.terminating);
  const updated = live.filter((p) => p.revision === state.revision).length;
  const available = live.filter((p) => p.ready).length;
  const complete = updated === replicas && live.length === replicas && available === replicas;
  const replicaSet = `${state.key.name}-${state.revision}`;
  if (!complete && Date.now() - state.lastProgress > deadlineMs) state.failed = true;
  const progressing = complete
    ? condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${replicaSet}" has successfully progressed.`)
    : state.failed
      ? condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${replicaSet}" has timed out progressing.`)
      : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${replicaSet}" is progressing.`);
  return {
    observedGeneration: generation,
    replicas: live.length,
    updatedReplicas: updated,
    readyReplicas: available,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, live.length - available),
    conditions: [
      available >= replicas - maxUnavailable
        ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
      progressing,
    ],
  };
}

export function slotStatus(state: WorkloadState, resource: string, slots: number, generation: number): JsonObject {
  const live = state.pods.filter((p) => !p.terminating);
  const ready = live.filter((p) => p.ready).length;
  const updated = live.filter((p) => p.revision === state.revision).length;
  if (resource === 'daemonsets') {
    return {
      observedGeneration: generation,
      desiredNumberScheduled: slots,
      currentNumberScheduled: live.length,
      updatedNumberScheduled: updated,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: Math.max(0, slots - ready),
      numberMisscheduled: 0,
    };
  }
  return {
    observedGeneration: generation,
    replicas: live.length,
    readyReplicas: ready,
    availableReplicas: ready,
    currentReplicas: live.filter((p) => p.revision === state.currentRevision).length,
    updatedReplicas: updated,
    currentRevision: `${state.key.name}-${state.currentRevision}`,
    updateRevision: `${state.key.name}-${state.revision}`,
  };
}

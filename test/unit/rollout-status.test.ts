// When a rollout is complete, by the fields `kubectl rollout status` reads.
import { describe, expect, it } from 'vitest';
import { rolloutState } from '../../src/services/rollout-status.js';

const deployment = (status: Record<string, unknown>, generation = 2, replicas = 3) => ({
  metadata: { generation },
  spec: { replicas },
  status,
});
const complete = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 };

describe('rolloutState', () => {
  it('a Deployment is done only when the controller saw the new generation and every replica is updated and available', () => {
    expect(rolloutState('Deployment', deployment(complete)).done).toBe(true);
    expect(rolloutState('Deployment', deployment({ ...complete, observedGeneration: 1 })).done).toBe(false);
    expect(rolloutState('Deployment', deployment({ ...complete, updatedReplicas: 2 })).done).toBe(false);
    const pending = rolloutState('Deployment', deployment({ ...complete, replicas: 4 }));
    expect(pending).toMatchObject({ done: false, progress: '3 of 3 updated, 3 ready, 1 old pending termination' });
    expect(rolloutState('Deployment', deployment({ ...complete, availableReplicas: 2 })).done).toBe(false);
    expect(rolloutState('Deployment', deployment({})).done).toBe(false);
  });

  it('a Deployment whose Progressing condition says ProgressDeadlineExceeded has failed', () => {
    const conditions = [
      {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: 'ReplicaSet "backend-1" has timed out progressing.',
      },
    ];
    const state = rolloutState('Deployment', deployment({ ...complete, updatedReplicas: 1, availableReplicas: 3, conditions }));
    expect(state.failed).toBe('ReplicaSet "backend-1" has timed out progressing. (ProgressDeadlineExceeded)');
    // A condition left from the previous generation does not fail the new rollout.
    expect(rolloutState('Deployment', deployment({ ...complete, observedGeneration: 1, conditions })).failed).toBeUndefined();
  });

  it('a StatefulSet is done when every replica is ready and the current revision is the update revision', () => {
    const sts = (status: Record<string, unknown>) => ({ metadata: { generation: 2 }, spec: { replicas: 2 }, status });
    const done = { observedGeneration: 2, readyReplicas: 2, updatedReplicas: 2, currentRevision: 'r2', updateRevision: 'r2' };
    expect(rolloutState('StatefulSet', sts(done)).done).toBe(true);
    expect(rolloutState('StatefulSet', sts({ ...done, currentRevision: 'r1' })).done).toBe(false);
    expect(rolloutState('StatefulSet', sts({ ...done, readyReplicas: 1 })).done).toBe(false);
  });

  it('a DaemonSet is done when every scheduled pod is updated and available', () => {
    const ds = (status: Record<string, unknown>) => ({ metadata: { generation: 3 }, status });
    const done = { observedGeneration: 3, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 };
    expect(rolloutState('DaemonSet', ds(done))).toMatchObject({ done: true, progress: '2 of 2 updated, 2 available' });
    expect(rolloutState('DaemonSet', ds({ ...done, numberAvailable: 1 })).done).toBe(false);
    expect(rolloutState('DaemonSet', ds({ ...done, observedGeneration: 2 })).done).toBe(false);
  });
});

// The rotating host's wait for the fleet: done when every registered host acknowledged the published fingerprint,
// ended at once by a host that reports a failure, FLEET_LAGGING naming the hosts past ackSeconds. A fake clock.
import { describe, expect, it } from 'vitest';
import type { EngineDeps } from '../../src/engine/session.js';
import type { RotateError } from '../../src/errors.js';
import { waitForFleet } from '../../src/fleet/wait.js';
import type { Ack, FleetHost, FleetStore } from '../../src/store/fleet.js';

function fakeFleet(names: string[]) {
  const acks: Ack[] = [];
  const hosts: FleetHost[] = names.map((name) => ({
    name,
    agentId: name,
    envFiles: [],
    services: [],
    registeredAt: 't',
    seenAt: '2026-12-08T00:00:00.000Z',
  }));
  const fleet = {
    hosts: async () => hosts,
    acks: async () => acks,
  } as unknown as FleetStore;
  const ack = (host: string, fingerprint: string, result: Ack['result'] = 'ok', detail: string | null = null) =>
    acks.push({ host, runId: 'run-1', fingerprint, result, detail, at: 't' });
  return { fleet, ack };
}

function clock(onSleep: (seconds: number) => void = () => {}) {
  let now = 0;
  const logged: string[] = [];
  const deps = {
    now: () => new Date(now),
    sleep: async (ms: number) => {
      now += ms;
      onSleep(now / 1000);
    },
    log: { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), debug: () => {} },
  } as unknown as EngineDeps;
  return { deps, logged, elapsed: () => now / 1000 };
}

async function failure(promise: Promise<unknown>): Promise<RotateError> {
  return promise.then(
    () => {
      throw new Error('expected FLEET_LAGGING');
    },
    (error: RotateError) => error,
  );
}

describe('waitForFleet', () => {
  it('returns once every registered host acknowledged this fingerprint', async () => {
    const { fleet, ack } = fakeFleet(['web-1', 'web-2']);
    ack('web-1', 'fp');
    const { deps, elapsed } = clock((s) => s === 3 && ack('web-2', 'fp'));
    await waitForFleet(fleet, 'run-1', 'fp', 600, deps);
    expect(elapsed()).toBe(3);
  });

  it('past ackSeconds: FLEET_LAGGING (exit 3) naming only the hosts that did not acknowledge', async () => {
    const { fleet, ack } = fakeFleet(['web-1', 'web-2', 'worker']);
    ack('web-1', 'fp');
    ack('web-2', 'an-older-fingerprint');
    const { deps, elapsed } = clock();
    const error = await failure(waitForFleet(fleet, 'run-1', 'fp', 10, deps));
    expect(error.code).toBe('FLEET_LAGGING');
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(
      /^hosts web-2 \(no acknowledgement .*\), worker \(no acknowledgement .*\) did not acknowledge the new values within 10s; the old value stays valid$/,
    );
    expect(error.hint).toContain('rotate resume');
    expect(elapsed()).toBe(10);
  });

  it('a host that reports a failure ends the wait at once, its reason named', async () => {
    const { fleet, ack } = fakeFleet(['web-1']);
    ack('web-1', 'fp', 'failed', 'HEALTH_TIMEOUT: service backend did not become healthy');
    const { deps, elapsed } = clock();
    const error = await failure(waitForFleet(fleet, 'run-1', 'fp', 600, deps));
    expect(error.message).toContain('host web-1 (failed: HEALTH_TIMEOUT: service backend did not become healthy)');
    expect(elapsed()).toBe(0);
  });

  it('no registered host: nothing to wait for', async () => {
    const { fleet } = fakeFleet([]);
    const { deps, elapsed } = clock();
    await waitForFleet(fleet, 'run-1', 'fp', 600, deps);
    expect(elapsed()).toBe(0);
  });

  it('a rollback or retire wait: its own code (exit 3), the hosts named, what they are left with, progress on the way', async () => {
    for (const [waitFor, code, what, left] of [
      ['rollback', 'FLEET_ROLLBACK_LAGGING', 'the rollback', 'may still run the new value'],
      ['retire', 'FLEET_RETIRE_LAGGING', 'the retire changes', 'may still hold the old value'],
    ] as const) {
      const { fleet, ack } = fakeFleet(['web-1', 'worker']);
      const { deps, logged, elapsed } = clock((s) => s === 2 && ack('web-1', 'fp'));
      const error = await failure(waitForFleet(fleet, 'run-1', 'fp', 30, deps, waitFor));
      expect(error.code).toBe(code);
      expect(error.exitCode).toBe(3);
      expect(error.message).toMatch(
        new RegExp(`^host worker \\(no acknowledgement .*\\) did not acknowledge ${what} within 30s; .*${left}$`),
      );
      expect(error.message).not.toContain('web-1');
      expect(error.hint).toContain('rotate resume');
      expect(elapsed()).toBe(30);
      expect(logged[0]).toBe(`waiting for web-1, worker to acknowledge ${what} (up to 30 s)`);
      expect(logged).toContain(`web-1 acknowledged ${what}; still waiting for worker (28 s left)`);
      expect(logged).toContain(`still waiting for worker to acknowledge ${what} (18 s left)`);
    }
  });

  it('says when every host acknowledged', async () => {
    const { fleet, ack } = fakeFleet(['web-1']);
    const { deps, logged } = clock((s) => s === 1 && ack('web-1', 'fp'));
    await waitForFleet(fleet, 'run-1', 'fp', 600, deps, 'rollback');
    expect(logged.at(-1)).toBe('every host of the fleet acknowledged the rollback');
  });
});

// services.<n>.instances: what the config accepts and the replicas it expands to, in restart order.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { serviceInstances } from '../../src/services/instances.js';

const service = (raw: Record<string, unknown>) => parseConfig({ services: { web: raw } }, 'test').services.web!;

describe('serviceInstances', () => {
  it('is the service itself without instances', () => {
    expect(serviceInstances('web', service({ restart: 'r', health: { url: 'http://h/health' } }))).toEqual([
      { label: 'web', path: 'services.web', restart: 'r', health: { url: 'http://h/health', timeoutSeconds: 60 } },
    ]);
  });

  it('numbers a count from 1 in restart and health URL', () => {
    const instances = serviceInstances(
      'web',
      service({ instances: 2, restart: 'systemctl restart app@{i}', health: { url: 'http://127.0.0.1:800{i}/h' } }),
    );
    expect(instances.map((i) => [i.label, i.restart, i.health?.url])).toEqual([
      ['web[1]', 'systemctl restart app@1', 'http://127.0.0.1:8001/h'],
      ['web[2]', 'systemctl restart app@2', 'http://127.0.0.1:8002/h'],
    ]);
  });

  it('keeps a list in its order, each path naming its own entry', () => {
    const instances = serviceInstances('web', service({ instances: [{ restart: 'a' }, { restart: 'b', health: { url: 'http://h/2' } }] }));
    expect(instances.map((i) => [i.label, i.path, i.restart])).toEqual([
      ['web[1]', 'services.web.instances[0]', 'a'],
      ['web[2]', 'services.web.instances[1]', 'b'],
    ]);
  });
});

describe('services.<n>.instances in the config', () => {
  it.each([
    [{ instances: 2, restart: 'same command' }, /\{i\}/],
    [{ instances: 2 }, /\{i\}/],
    [{ instances: [{ restart: 'a' }], restart: 'b' }, /move `restart` and `health`/],
    [{ instances: 2, restart: 'r{i}', kubernetes: { kind: 'Deployment', name: 'x' } }, /Kubernetes/],
    [{ restart: 'r', health: { url: 'http://h:80{i}/' } }, /needs `instances` as a count/],
    [{ instances: [] }, /services\.web\.instances/],
    [{ instances: 2, restart: 'r{i}', health: { url: 'ftp://h/{i}' } }, /http\(s\) URL/],
  ])('refuses %j', (raw, message) => {
    expect(() => service(raw)).toThrow(message);
  });
});

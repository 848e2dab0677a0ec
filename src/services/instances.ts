import { INSTANCE_PLACEHOLDER, type ServiceConfig } from '../config/schema.js';

/** One process to restart and wait for: a whole service, or one replica of it. */
export interface ServiceInstance {
  /** What a person reads: `web`, or `web[2]` for a service's second replica. */
  label: string;
  /** The config path of its restart command, for hints. */
  path: string;
  restart: string | undefined;
  health: { url: string; timeoutSeconds: number } | undefined;
}

/**
 * The processes of a shell-restarted service, in the order they restart: the service itself, or its replicas
 * (`instances` as a list, or a count whose `{i}` in restart and health URL becomes 1, 2, ...). Pure.
 */
export function serviceInstances(name: string, service: ServiceConfig): ServiceInstance[] {
  const { instances } = service;
  if (instances === undefined) {
    return [{ label: name, path: `services.${name}`, restart: service.restart, health: service.health }];
  }
  if (typeof instances === 'number') {
    return Array.from({ length: instances }, (_, index) => {
      const n = String(index + 1);
      return {
        label: `${name}[${n}]`,
        path: `services.${name}`,
        restart: service.restart?.replaceAll(INSTANCE_PLACEHOLDER, n),
        health: service.health && { ...service.health, url: service.health.url.replaceAll(INSTANCE_PLACEHOLDER, n) },
      };
    });
  }
  return instances.map((instance, index) => ({
    label: `${name}[${index + 1}]`,
    path: `services.${name}.instances[${index}]`,
    restart: instance.restart,
    health: instance.health,
  }));
}

import type { SecretState, Store } from './types.js';

/** Where an environment's state of a secret is kept in a store shared by several environments: `jwt@production`. */
export const environmentStateKey = (secret: string, environment: string): string => `${secret}@${environment}`;

/**
 * A store shared by several environments (two configs, `"environment": "staging"` and `"production"`, on one
 * PostgreSQL store or one folder) keeps each environment's per-secret state apart: this config reads and writes
 * `<id>@<environment>`, and reads a plain `<id>` (written before the config named its environment) until it writes
 * its own. History, journals, backups and the lock stay shared: the history is what the promotion gate reads, and
 * one lock keeps two environments' runs on one store from interleaving.
 */
export function withEnvironment(store: Store, environment: string): Store {
  const suffix = `@${environment}`;
  const own = {
    async readStates(): Promise<Record<string, SecretState>> {
      const all = await store.readStates();
      const mine: Record<string, SecretState> = {};
      // Plain ids first (an older, unscoped state), then this environment's own, which win.
      for (const [key, state] of Object.entries(all)) if (!key.includes('@')) mine[key] = state;
      for (const [key, state] of Object.entries(all)) if (key.endsWith(suffix)) mine[key.slice(0, -suffix.length)] = state;
      return mine;
    },
    writeState: (secret: string, state: SecretState) => store.writeState(environmentStateKey(secret, environment), state),
  };
  // Every other operation is the store's own, called on it (the stores keep private fields).
  return new Proxy(store, {
    get(target, property) {
      if (property === 'readStates' || property === 'writeState') return own[property];
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

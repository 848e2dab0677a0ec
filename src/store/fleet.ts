import { RotateError } from '../errors.js';

/** A host that runs `rotate agent`, as registered in the shared store. */
export interface FleetHost {
  name: string;
  /** Which agent holds the name: a random id its folder keeps (.rotate-agent-id), so two agents cannot share one. */
  agentId: string;
  envFiles: string[];
  services: string[];
  registeredAt: string;
  seenAt: string;
}

/** The values a run wants on every host, sealed under the master key: published by the rotating host. */
export interface Desired {
  runId: string;
  mode: 'rotate' | 'rollback' | 'retire';
  /** Keyed fingerprint of the whole set of values (never a value): what an acknowledgement names. */
  fingerprint: string;
  secrets: string[];
  /** Sealed JSON `{ env: Record<string, string | null>, old: Record<string, string> }`. */
  sealed: string;
  by: string;
  at: string;
}

/** A host's answer to the desired values: it applied them (or failed to), restarted and checked its services. */
export interface Ack {
  host: string;
  runId: string;
  fingerprint: string;
  result: 'ok' | 'failed';
  /** What failed, redacted (no value). */
  detail: string | null;
  at: string;
}

/** The fleet's tables of the postgres store (the file store has no fleet: one host). */
export interface FleetStore {
  register(host: Omit<FleetHost, 'registeredAt' | 'seenAt'>): Promise<void>;
  leave(name: string, agentId: string): Promise<boolean>;
  hosts(): Promise<FleetHost[]>;
  publish(desired: Omit<Desired, 'at'>): Promise<void>;
  desired(): Promise<Desired | undefined>;
  acknowledge(ack: Omit<Ack, 'at'>): Promise<void>;
  acks(): Promise<Ack[]>;
}

export const FLEET_TABLES = (t: (name: string) => string): string => `
  CREATE TABLE IF NOT EXISTS ${t('fleet_hosts')} (
    name text PRIMARY KEY, agent_id text NOT NULL, env_files jsonb NOT NULL, services jsonb NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(), seen_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE IF NOT EXISTS ${t('fleet_desired')} (
    id int PRIMARY KEY CHECK (id = 1), run_id text NOT NULL, mode text NOT NULL, fingerprint text NOT NULL,
    secrets jsonb NOT NULL, sealed text NOT NULL, by_host text NOT NULL, at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE IF NOT EXISTS ${t('fleet_acks')} (
    host text PRIMARY KEY, run_id text NOT NULL, fingerprint text NOT NULL, result text NOT NULL, detail text,
    at timestamptz NOT NULL DEFAULT now());
`;

type Query = <R extends Record<string, unknown>>(text: string, values?: unknown[]) => Promise<{ rows: R[] }>;

const iso = (value: unknown): string => (value instanceof Date ? value.toISOString() : String(value));

/** The fleet's queries, on the postgres store's pool and schema. */
export function postgresFleet(query: Query, t: (name: string) => string): FleetStore {
  return {
    async register(host) {
      // One statement: a name is taken by the first agent to claim it; the same agent refreshes its row.
      const { rows } = await query<{ agent_id: string }>(
        `INSERT INTO ${t('fleet_hosts')} (name, agent_id, env_files, services) VALUES ($1, $2, $3::jsonb, $4::jsonb)
         ON CONFLICT (name) DO UPDATE SET env_files = EXCLUDED.env_files, services = EXCLUDED.services, seen_at = now()
           WHERE ${t('fleet_hosts')}.agent_id = EXCLUDED.agent_id
         RETURNING agent_id`,
        [host.name, host.agentId, JSON.stringify(host.envFiles), JSON.stringify(host.services)],
      );
      if (rows.length === 0) {
        throw new RotateError('FLEET_HOST_TAKEN', `the host name ${host.name} is registered by another agent; nothing was changed`, {
          hint: `give this agent its own name (--host or ROTATE_HOST), or retire the other one first: \`rotate agent --leave --host ${host.name}\` in its folder`,
        });
      }
    },
    async leave(name, agentId) {
      const { rows } = await query(`DELETE FROM ${t('fleet_hosts')} WHERE name = $1 AND agent_id = $2 RETURNING name`, [name, agentId]);
      await query(`DELETE FROM ${t('fleet_acks')} WHERE host = $1`, [name]);
      return rows.length > 0;
    },
    async hosts() {
      const { rows } = await query<{
        name: string;
        agent_id: string;
        env_files: string[];
        services: string[];
        registered_at: Date;
        seen_at: Date;
      }>(`SELECT * FROM ${t('fleet_hosts')} ORDER BY name`);
      return rows.map((r) => ({
        name: r.name,
        agentId: r.agent_id,
        envFiles: r.env_files,
        services: r.services,
        registeredAt: iso(r.registered_at),
        seenAt: iso(r.seen_at),
      }));
    },
    async publish(d) {
      await query(
        `INSERT INTO ${t('fleet_desired')} (id, run_id, mode, fingerprint, secrets, sealed, by_host) VALUES (1, $1, $2, $3, $4::jsonb, $5, $6)
         ON CONFLICT (id) DO UPDATE SET run_id = $1, mode = $2, fingerprint = $3, secrets = $4::jsonb, sealed = $5, by_host = $6, at = now()`,
        [d.runId, d.mode, d.fingerprint, JSON.stringify(d.secrets), d.sealed, d.by],
      );
    },
    async desired() {
      const { rows } = await query<{
        run_id: string;
        mode: Desired['mode'];
        fingerprint: string;
        secrets: string[];
        sealed: string;
        by_host: string;
        at: Date;
      }>(`SELECT * FROM ${t('fleet_desired')} WHERE id = 1`);
      const r = rows[0];
      return (
        r && {
          runId: r.run_id,
          mode: r.mode,
          fingerprint: r.fingerprint,
          secrets: r.secrets,
          sealed: r.sealed,
          by: r.by_host,
          at: iso(r.at),
        }
      );
    },
    async acknowledge(a) {
      await query(
        `INSERT INTO ${t('fleet_acks')} (host, run_id, fingerprint, result, detail) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (host) DO UPDATE SET run_id = $2, fingerprint = $3, result = $4, detail = $5, at = now()`,
        [a.host, a.runId, a.fingerprint, a.result, a.detail],
      );
    },
    async acks() {
      const { rows } = await query<{
        host: string;
        run_id: string;
        fingerprint: string;
        result: Ack['result'];
        detail: string | null;
        at: Date;
      }>(`SELECT * FROM ${t('fleet_acks')} ORDER BY host`);
      return rows.map((r) => ({
        host: r.host,
        runId: r.run_id,
        fingerprint: r.fingerprint,
        result: r.result,
        detail: r.detail,
        at: iso(r.at),
      }));
    },
  };
}

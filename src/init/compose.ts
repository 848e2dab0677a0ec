// What `rotate init` needs from a docker compose file: which services read the env file, how to re-create each one so
// that it re-reads it, and a URL on the host that answers when it is up. Pure: the caller reads and parses the file.
import { posix } from 'node:path';

/** One service of the compose file as init sees it. */
export interface ComposeService {
  name: string;
  image: string;
  /** Every key of the env file reaches the container (`env_file:` names it). */
  readsWholeEnvFile: boolean;
  /** Keys of the env file the service names through interpolation (`${KEY}` in environment:, command:, ...). */
  interpolated: Set<string>;
  /** Published ports: container port -> host port (the first mapping of each). */
  ports: Map<number, number>;
  /** The URL its healthcheck fetches, as written (inside the container), when it fetches one. */
  healthcheckUrl?: string;
}

type Json = unknown;
const isRecord = (value: Json): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `env_file:` as a string, a list of strings, or a list of `{ path, required }`. */
function envFilesOf(definition: Record<string, Json>): string[] {
  const raw = definition.env_file;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list.flatMap((entry) =>
    typeof entry === 'string' ? [entry] : isRecord(entry) && typeof entry.path === 'string' ? [entry.path] : [],
  );
}

/** `${KEY}`, `${KEY:-default}`, `${KEY?err}` and `$KEY` in any string of the definition; `$$` is a literal dollar. */
function interpolatedKeys(definition: Json): Set<string> {
  const keys = new Set<string>();
  const visit = (value: Json): void => {
    if (typeof value === 'string') {
      for (const m of value.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)/g))
        keys.add((m[1] ?? m[2]) as string);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (isRecord(value)) Object.values(value).forEach(visit);
  };
  visit(definition);
  return keys;
}

/** `ports:` in the short form ("8000", "8000:8000", "127.0.0.1:8080:8000/tcp") or the long one ({ target, published }). */
function portsOf(definition: Record<string, Json>): Map<number, number> {
  const ports = new Map<number, number>();
  for (const entry of Array.isArray(definition.ports) ? definition.ports : []) {
    let target: number | undefined;
    let published: number | undefined;
    if (typeof entry === 'string' || typeof entry === 'number') {
      const parts = String(entry)
        .replace(/\/(tcp|udp)$/, '')
        .split(':');
      target = Number(parts.at(-1));
      published = parts.length >= 2 ? Number(parts.at(-2)) : undefined;
    } else if (isRecord(entry)) {
      target = Number(entry.target);
      published = entry.published === undefined ? undefined : Number(entry.published);
    }
    // A range ("8000-8001") or a random host port has no single URL.
    if (Number.isInteger(target) && Number.isInteger(published) && !ports.has(target as number))
      ports.set(target as number, published as number);
  }
  return ports;
}

function healthcheckUrlOf(definition: Record<string, Json>): string | undefined {
  const test = isRecord(definition.healthcheck) ? definition.healthcheck.test : undefined;
  const text = Array.isArray(test) ? test.join(' ') : typeof test === 'string' ? test : '';
  return /https?:\/\/[^\s"'|;&]+/.exec(text)?.[0];
}

/**
 * The services of a parsed compose file, with what each reads of `envFile` (a path relative to the config's folder).
 * `composeDir` is the compose file's folder relative to the same place ('' when beside it). Interpolation reads the
 * project's `.env` (beside the compose file), so `${KEY}` counts only when that is the env file.
 */
export function composeServices(document: Json, composeDir: string, envFile: string): ComposeService[] {
  const services = isRecord(document) && isRecord(document.services) ? document.services : {};
  const target = posix.normalize(envFile);
  const interpolatesEnvFile = posix.normalize(posix.join(composeDir || '.', '.env')) === target;
  return Object.entries(services).flatMap(([name, definition]) => {
    if (!isRecord(definition)) return [];
    return [
      {
        name,
        image: typeof definition.image === 'string' ? definition.image : '',
        readsWholeEnvFile: envFilesOf(definition).some((file) => posix.normalize(posix.join(composeDir || '.', file)) === target),
        interpolated: interpolatesEnvFile ? interpolatedKeys(definition) : new Set<string>(),
        ports: portsOf(definition),
        ...(healthcheckUrlOf(definition) ? { healthcheckUrl: healthcheckUrlOf(definition) } : {}),
      },
    ];
  });
}

/** Whether the service reads `key` of the env file (all of it through env_file:, or the key by interpolation). */
export const readsKey = (service: ComposeService, key: string, envKeys: ReadonlySet<string>): boolean =>
  envKeys.has(key) && (service.readsWholeEnvFile || service.interpolated.has(key));

/** The healthcheck's URL as the host reaches it: its container port swapped for the published one; none if unpublished. */
export function hostUrl(service: ComposeService, containerUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(containerUrl);
  } catch {
    return undefined;
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const published = service.ports.get(port);
  if (published === undefined) return undefined;
  url.hostname = 'localhost';
  url.port = String(published);
  return url.toString();
}

/** The compose file names docker compose looks for, in its order. */
export const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'] as const;

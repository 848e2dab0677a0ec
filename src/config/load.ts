import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type * as z from 'zod/mini';
import { unreadableFileReason, usageError } from '../errors.js';
import { secretKinds } from '../secrets/index.js';
import { closest } from '../suggest.js';
import { trace } from '../trace.js';
import { CONFIG_DESCRIPTIONS } from './descriptions.js';
import { type Config, configSchema, KIND_BY_ID, type SecretConfig, secretSchema } from './schema.js';

export const CONFIG_FILE = 'rotate.config.json';

export interface LoadedConfig {
  config: Config;
  /** The config file, or undefined when the built-in defaults are in use. */
  path: string | undefined;
  /** Folder that relative paths (envFile, store.dir) and restart commands are relative to. */
  dir: string;
  /** True when the config names no `secrets`: the built-in defaults (the platform's secrets) are in use. */
  defaultSecrets: boolean;
}

/** The value at `path` of the raw config (to say what a wrong key or kind was). */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const key of path) node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  return node;
}

/** `secrets.jwt` and `secrets.*` (or `secrets.jwt` as described by kind) are the same place of the schema. */
const placeOf = (path: string): string => path.replace(/^(secrets|services)\.[^.]+/, '$1.#');

/** The keys the schema has beside an unknown one, from the described paths (src/config/descriptions.ts). */
function keysBeside(parent: string): string[] {
  const place = placeOf(parent);
  const keys = Object.keys(CONFIG_DESCRIPTIONS).flatMap((path) => {
    const at = path.lastIndexOf('.');
    return placeOf(at < 0 ? '' : path.slice(0, at)) === place ? [path.slice(at + 1)] : [];
  });
  return [...new Set(keys)];
}

/** Why a key the schema knows at this place is refused: it belongs to another kind (secrets) or type (target). */
function notForThis(raw: unknown, path: readonly PropertyKey[]): string {
  const node = valueAt(raw, path) as Record<string, unknown> | undefined;
  const builtIn = path[0] === 'secrets' && path.length === 2 ? (KIND_BY_ID as Record<string, unknown>)[String(path[1])] : undefined;
  const [word, variant] =
    typeof node?.kind === 'string' ? ['kind', node.kind] : typeof node?.type === 'string' ? ['type', node.type] : ['kind', builtIn];
  const which = typeof variant === 'string' ? `${word} "${variant}"` : 'this one';
  return `does not apply to ${which} (another ${word} takes it; docs/configuration.md lists the keys of each)`;
}

/** `secrets.database.adminUrlEnv: expected string, received number`; a typo gets the key or kind it meant. */
function formatIssues(error: z.core.$ZodError, raw: unknown): string[] {
  const ids = Object.keys(KIND_BY_ID);
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    const where = path || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const guess = closest(key, keysBeside(path));
        // The key exists at this place, for another secret kind or target type (target.source on an envfile target).
        if (guess === key) return `${where}: key "${key}" ${notForThis(raw, issue.path)}`;
        return `${where}: unknown key "${key}"${guess ? `; did you mean \`${guess}\`?` : ''}`;
      });
    }
    const kinds = 'options' in issue && Array.isArray(issue.options) ? issue.options.map(String) : undefined;
    if (kinds && path.startsWith('secrets.') && issue.path.length === 3 && issue.path[2] === 'kind') {
      const id = String(issue.path[1]);
      const kind = valueAt(raw, issue.path);
      if (kind === undefined) {
        const guess = closest(id, ids);
        return `secrets.${id}: no kind, and "${id}" is not a built-in id; ${guess ? `did you mean \`${guess}\`? Otherwise add` : 'add'} "kind": one of ${kinds.join(', ')}`;
      }
      const guess = typeof kind === 'string' ? closest(kind, kinds) : undefined;
      return `${where}: ${JSON.stringify(kind)} is not a kind; ${guess ? `did you mean \`${guess}\`? ` : ''}The kinds: ${kinds.join(', ')}`;
    }
    return `${where}: ${issue.message}`;
  });
}

function jsonPosition(text: string, error: SyntaxError): string {
  const at = /position (\d+)/.exec(error.message)?.[1];
  if (at === undefined) return '';
  const before = text.slice(0, Number(at));
  const line = before.split('\n').length;
  const column = Number(at) - before.lastIndexOf('\n');
  return `:${line}:${column}`;
}

export function parseConfig(raw: unknown, source: string): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issues = formatIssues(result.error, raw);
    throw usageError(
      'CONFIG_INVALID',
      `${source} is not a valid configuration:\n  ${issues.join('\n  ')}`,
      'fix the keys named above; `rotate init` writes a complete example, and schema/rotate.config.schema.json gives your editor completion',
    );
  }
  const config = result.data;
  for (const [id, secret] of Object.entries(config.secrets)) {
    secret.services.forEach((name, index) => {
      if (!config.services[name]) {
        throw usageError(
          'CONFIG_INVALID',
          `${source}: secrets.${id}.services.${index} names the service "${name}", which is not under services`,
          `add "services": { "${name}": { "restart": "...", "health": { "url": "..." } } } or remove it from secrets.${id}.services`,
        );
      }
    });
  }
  return config;
}

/**
 * The built-in secrets that exist only when the target holds their key (each kind says which: some platform versions
 * sign refresh tokens with JWT_REFRESH_SECRET, a jwt secret of its own). `values` absent: every one that may exist.
 */
export function withTargetDefaults(config: Config, values?: Readonly<Record<string, string>>): Config {
  const added: Record<string, SecretConfig> = {};
  for (const entry of secretKinds) {
    const when = entry.builtInWhenPresent;
    if (!when || config.secrets[when.id] || (values && !(when.key in values))) continue;
    added[when.id] = secretSchema.parse({ kind: entry.kind, ...when.config(config.secrets) });
  }
  return Object.keys(added).length === 0 ? config : { ...config, secrets: { ...config.secrets, ...added } };
}

/** Reads `--config`, else ./rotate.config.json, else the built-in defaults (the platform's five secrets). */
export async function loadConfig(options: { config?: string; envFile?: string; cwd: string }): Promise<LoadedConfig> {
  const explicit = options.config !== undefined;
  const path = resolve(options.cwd, options.config ?? CONFIG_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (explicit || code !== 'ENOENT') {
      throw usageError(
        'CONFIG_UNREADABLE',
        `the config file ${path} ${unreadableFileReason(error)}`,
        code === 'EISDIR'
          ? `point --config at the file itself, or move the folder away from ${CONFIG_FILE}`
          : 'check --config, or run `rotate init`',
      );
    }
  }
  let raw: unknown = {};
  if (text !== undefined) {
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw usageError(
        'CONFIG_INVALID',
        `${path}${jsonPosition(text, error as SyntaxError)}: not valid JSON: ${(error as Error).message}`,
        'fix the JSON syntax at that line',
      );
    }
  }
  const config = parseConfig(raw, text === undefined ? 'the built-in defaults' : path);
  const dir = text === undefined ? options.cwd : dirname(path);
  // The target owns its files: `target.files`, or the older top-level `envFile`, or `--env-file`; resolved here once.
  let envFiles: string[] = [];
  if (config.target.type === 'envfile') {
    const hasEnvFile = Boolean(raw && typeof raw === 'object' && 'envFile' in raw);
    if (config.target.files !== undefined && hasEnvFile) {
      throw usageError(
        'CONFIG_INVALID',
        `${path}: envFile and target.files both name the env files`,
        'keep one: target.files (envFile is its older name)',
      );
    }
    const named = config.target.files ?? config.envFile;
    const listed = typeof named === 'string' ? [named] : named;
    envFiles = options.envFile ? [resolve(options.cwd, options.envFile)] : [...new Set(listed.map((file) => resolve(dir, file)))];
    config.target = { type: 'envfile', files: envFiles };
  }
  const defaultSecrets = !(raw && typeof raw === 'object' && 'secrets' in raw);
  trace(
    `config: ${text === undefined ? `no ${path}, using the built-in defaults` : `read ${path}`}${defaultSecrets ? ' (secrets: the built-in defaults)' : ''}`,
  );
  const target = config.target;
  if (target.type === 'envfile')
    trace(`env file${envFiles.length > 1 ? 's' : ''}: ${envFiles.join(', ')}${options.envFile ? ' (--env-file)' : ''}`);
  else trace(`target: Kubernetes Secret ${target.namespace}/${target.secret}${target.context ? ` (context ${target.context})` : ''}`);
  return { config, path: text === undefined ? undefined : path, dir, defaultSecrets };
}

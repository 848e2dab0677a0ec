// The three patch content types the API server accepts for PATCH: JSON merge patch (RFC 7386), strategic merge patch
// (merge patch whose lists of named objects merge by `name`, as containers and env do) and JSON patch (RFC 6902).
import { badRequest, StatusError, unsupportedMediaType } from './fake-kube-status.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

export function mergePatch(target: Json, patch: Json, strategic = false): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (strategic && Array.isArray(value) && Array.isArray(out[key]) && value.every((v) => isObject(v) && 'name' in v)) {
      out[key] = mergeNamedList(out[key] as Json[], value as JsonObject[]);
    } else out[key] = mergePatch(out[key] ?? null, value, strategic);
  }
  return out;
}

/** Strategic merge of a list keyed by `name`: a patch entry updates the same-named entry, `$patch: delete` drops it. */
function mergeNamedList(target: Json[], patch: JsonObject[]): Json[] {
  const out = [...target];
  for (const entry of patch) {
    const index = out.findIndex((item) => isObject(item) && item.name === entry.name);
    if (entry.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
    } else if (index >= 0) out[index] = mergePatch(out[index] ?? null, entry, true);
    else out.push(structuredClone(entry));
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

const unescapeToken = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');

function locate(doc: Json, path: string): { parent: JsonObject | Json[]; key: string } {
  if (!path.startsWith('/')) throw badRequest(`the JSON patch path "${path}" does not start with /`);
  const tokens = path.slice(1).split('/').map(unescapeToken);
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (next === undefined)
      throw new StatusError(
        422,
        'Invalid',
        `the server rejected our request due to an error in our request: doc is missing path: "${path}"`,
      );
    node = next;
  }
  if (!isObject(node) && !Array.isArray(node)) throw badRequest(`the JSON patch path "${path}" does not point into an object`);
  return { parent: node, key: tokens.at(-1) ?? '' };
}

function get(doc: Json, path: string): Json {
  const { parent, key } = locate(doc, path);
  const value = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (value === undefined)
    throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: doc is missing key: "${path}"`);
  return value;
}

function remove(doc: Json, path: string): void {
  get(doc, path);
  const { parent, key } = locate(doc, path);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
}

function add(doc: Json, path: string, value: Json, replace: boolean): void {
  if (replace) get(doc, path);
  const { parent, key } = locate(doc, path);
  if (Array.isArray(parent)) {
    if (key === '-') parent.push(value);
    else if (replace) parent[Number(key)] = value;
    else parent.splice(Number(key), 0, value);
  } else parent[key] = value;
}

export function jsonPatch(target: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw badRequest('a JSON patch must be an array of operations');
  const doc = structuredClone(target);
  for (const operation of operations as Operation[]) {
    const value = operation.value ?? null;
    switch (operation.op) {
      case 'add':
        add(doc, operation.path, structuredClone(value), false);
        break;
      case 'replace':
        add(doc, operation.path, structuredClone(value), true);
        break;
      case 'remove':
        remove(doc, operation.path);
        break;
      case 'test':
        if (JSON.stringify(get(doc, operation.path)) !== JSON.stringify(value)) {
          throw new StatusError(
            422,
            'Invalid',
            `the server rejected our request due to an error in our request: testing value ${operation.path} failed`,
          );
        }
        break;
      case 'copy':
      case 'move': {
        const moved = structuredClone(get(doc, operation.from ?? ''));
        if (operation.op === 'move') remove(doc, operation.from ?? '');
        add(doc, operation.path, moved, false);
        break;
      }
      default:
        throw badRequest(`unknown JSON patch operation "${operation.op}"`);
    }
  }
  return doc;
}

/** Applies `body` to `target` by the request's Content-Type. */
export function applyPatch(contentType: string, target: Json, body: unknown): Json {
  const type = contentType.split(';')[0]?.trim();
  if (type === 'application/json-patch+json') return jsonPatch(target, body);
  if (!isObject(body)) throw badRequest('a merge patch must be a JSON object');
  if (type === 'application/merge-patch+json') return mergePatch(target, body);
  if (type === 'application/strategic-merge-patch+json') return mergePatch(target, body, true);
  throw unsupportedMediaType(contentType);
}

export type { Json, JsonObject };

// The Secret manifest a Secret is deployed from (`kubectl apply -f k8s/secrets.yaml`), edited in place: the key's
// scalar under `stringData` or `data` is located with the yaml package's source ranges and only its bytes are
// replaced, so comments, order, quoting, other documents and every other byte stay as they were. The document is
// never serialised again. YAML and JSON (a JSON file is YAML's flow style) alike, several documents per file.
import { isMap, isScalar, type Pair, parseAllDocuments, type Scalar, type YAMLMap } from 'yaml';
import { usageError } from '../errors.js';

export interface SecretRef {
  namespace: string;
  name: string;
}

type Section = 'stringData' | 'data';

interface Located {
  /** The Secret's document: its parsed form for last-applied-configuration. */
  object: Record<string, unknown>;
  sections: Partial<Record<Section, YAMLMap>>;
}

const describe = (ref: SecretRef) => `Secret ${ref.namespace}/${ref.name}`;

/** Finds the Secret's document; a file that does not parse, or has no such Secret, is bad config (exit 2). */
function locate(text: string, file: string, ref: SecretRef): Located {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return noSecret(file, ref);
  const matches: Located[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      const [error] = doc.errors;
      throw usageError(
        'SOURCE_INVALID',
        `${file} (target.source.file) is not valid YAML or JSON: ${error?.message.split('\n')[0]}`,
        `fix ${file} so that kubectl apply -f can read it, then run rotate again`,
      );
    }
    const object = doc.toJS() as Record<string, unknown> | null;
    if (!object || typeof object !== 'object' || object.kind !== 'Secret') continue;
    const metadata = (object.metadata ?? {}) as { name?: unknown; namespace?: unknown };
    // A manifest without a namespace goes where kubectl's context points: it names this Secret as well.
    if (metadata.name !== ref.name || (metadata.namespace !== undefined && metadata.namespace !== ref.namespace)) continue;
    const sections: Located['sections'] = {};
    for (const section of ['stringData', 'data'] as const) {
      const node = doc.get(section, true);
      if (isMap(node)) sections[section] = node;
    }
    matches.push({ object, sections });
  }
  if (matches.length === 0) return noSecret(file, ref);
  if (matches.length > 1) {
    throw usageError(
      'SOURCE_NO_SECRET',
      `${file} (target.source.file) holds ${describe(ref)} ${matches.length} times`,
      `keep one document of ${describe(ref)} in ${file}`,
    );
  }
  return matches[0]!;
}

function noSecret(file: string, ref: SecretRef): never {
  throw usageError(
    'SOURCE_NO_SECRET',
    `${file} (target.source.file) has no document of kind Secret named ${ref.name} in namespace ${ref.namespace}`,
    `point target.source.file at the manifest kubectl apply deploys ${describe(ref)} from (or fix target.namespace / target.secret)`,
  );
}

const pairOf = (map: YAMLMap | undefined, key: string): Pair<Scalar, Scalar> | undefined =>
  map?.items.find((item) => isScalar(item.key) && String(item.key.value) === key) as Pair<Scalar, Scalar> | undefined;

/** The Secret's values as kubectl would store them: `data` decoded from base64, `stringData` over it. */
export function readManifestSecret(text: string, file: string, ref: SecretRef): Record<string, string> {
  const { object } = locate(text, file, ref);
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries((object.data ?? {}) as Record<string, unknown>)) {
    values[key] = Buffer.from(String(value ?? ''), 'base64').toString('utf8');
  }
  for (const [key, value] of Object.entries((object.stringData ?? {}) as Record<string, unknown>)) values[key] = String(value ?? '');
  return values;
}

/** The Secret's document as a plain object (kubectl's view of the file), for last-applied-configuration. */
export function manifestObject(text: string, file: string, ref: SecretRef): Record<string, unknown> {
  return locate(text, file, ref).object;
}

/** A plain scalar may stay plain only when YAML reads it back as the same string (no `: `, `#`, leading `*`, ...). */
const PLAIN_SAFE = /^[A-Za-z0-9_./+=@%~-][A-Za-z0-9_./+=:@%?&~-]*$/;

function render(value: string, like: Scalar | undefined, json: boolean): string {
  if (!json && like?.type === 'QUOTE_SINGLE' && !/[\n\r]/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  if (
    !json &&
    like?.type === 'PLAIN' &&
    PLAIN_SAFE.test(value) &&
    !/^(true|false|null|yes|no|on|off|~|[-+]?[0-9.]+(e[-+]?[0-9]+)?)$/i.test(value)
  ) {
    return value;
  }
  return JSON.stringify(value);
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

const lineStart = (text: string, at: number) => text.lastIndexOf('\n', at - 1) + 1;
const lineEnd = (text: string, at: number) => {
  const end = text.indexOf('\n', at);
  return end === -1 ? text.length : end + 1;
};

/**
 * Sets (string) or removes (null) keys of the Secret in `text`, returning the new text: a key is edited where it is
 * (under `stringData` as text, under `data` in base64; under both when it is in both); a new key goes at the end of
 * `stringData` when the document has one, else of `data`. Every other byte is kept. Reads the result back and
 * throws if it does not hold exactly the values asked for.
 */
export function editManifestSecret(text: string, file: string, ref: SecretRef, changes: Readonly<Record<string, string | null>>): string {
  const { sections } = locate(text, file, ref);
  const json = file.endsWith('.json');
  const splices: Splice[] = [];
  for (const [key, value] of Object.entries(changes)) {
    let found = false;
    for (const section of ['stringData', 'data'] as const) {
      const map = sections[section];
      const pair = pairOf(map, key);
      if (!map || !pair) continue;
      found = true;
      if (value === null) splices.push(removal(text, map, pair));
      else {
        const written = section === 'data' ? Buffer.from(value, 'utf8').toString('base64') : value;
        const node = pair.value;
        if (!node?.range) throw cannotEdit(file, key);
        splices.push({ start: node.range[0], end: node.range[1], text: render(written, node, json || Boolean(map.flow)) });
      }
    }
    if (found || value === null) continue;
    const section: Section = sections.stringData ? 'stringData' : 'data';
    const map = sections[section];
    if (!map || map.items.length === 0) throw cannotEdit(file, key);
    const written = section === 'data' ? Buffer.from(value, 'utf8').toString('base64') : value;
    splices.push(insertion(text, map, key, render(written, undefined, json || Boolean(map.flow))));
  }
  let out = text;
  for (const splice of splices.sort((a, b) => b.start - a.start)) out = out.slice(0, splice.start) + splice.text + out.slice(splice.end);
  const after = readManifestSecret(out, file, ref);
  const before = readManifestSecret(text, file, ref);
  for (const [key, value] of Object.entries(changes)) {
    if ((value === null ? undefined : value) !== after[key]) throw cannotEdit(file, key);
  }
  for (const key of Object.keys(before)) {
    if (!(key in changes) && before[key] !== after[key]) throw cannotEdit(file, key);
  }
  return out;
}

function cannotEdit(file: string, key: string) {
  return usageError(
    'SOURCE_CANNOT_EDIT',
    `cannot edit ${key} in ${file} (target.source.file) in place: its entry is not a one-line key: value pair under stringData or data`,
    `write ${key} in ${file} as a plain "${key}: value" line under stringData or data, then run rotate again`,
  );
}

/** A new `key: value` after the map's last entry, in its style: a line at the same indent, or `, "key": "value"`. */
function insertion(text: string, map: YAMLMap, key: string, value: string): Splice {
  const last = map.items.at(-1) as Pair<Scalar, Scalar>;
  const keyStart = last.key.range![0];
  const valueEnd = last.value!.range![1];
  const indent = text.slice(lineStart(text, keyStart), keyStart);
  if (map.flow) {
    // `{"A": "1"}` gets `, "B": "2"`; a pretty-printed map gets the new pair on a line of its own, at the same indent.
    const sameLine = indent.trim() !== '';
    return { start: valueEnd, end: valueEnd, text: `,${sameLine ? ' ' : `\n${indent}`}${JSON.stringify(key)}: ${value}` };
  }
  const at = lineEnd(text, valueEnd);
  const newline = at === text.length && !text.endsWith('\n') ? '\n' : '';
  return { start: at, end: at, text: `${newline}${indent}${key}: ${value}\n` };
}

/** The pair's whole line(s) in block style; in flow style the pair and the comma that joins it to its neighbour. */
function removal(text: string, map: YAMLMap, pair: Pair<Scalar, Scalar>): Splice {
  const keyStart = pair.key.range![0];
  const valueEnd = pair.value!.range![1];
  if (!map.flow) return { start: lineStart(text, keyStart), end: lineEnd(text, valueEnd), text: '' };
  const index = map.items.indexOf(pair);
  if (index > 0) {
    const previous = map.items[index - 1] as Pair<Scalar, Scalar>;
    return { start: previous.value!.range![1], end: valueEnd, text: '' };
  }
  const next = map.items[index + 1] as Pair<Scalar, Scalar> | undefined;
  return { start: keyStart, end: next ? next.key.range![0] : valueEnd, text: '' };
}

// `kubectl.kubernetes.io/last-applied-configuration` as kubectl apply (client-side) writes it: the manifest's object
// without that annotation, encoded the way Go's encoding/json encodes an unstructured object (keys sorted at every
// level, <, > and & escaped, a final line feed). When rotate writes the new value into the manifest, it writes this
// annotation for the new manifest too: the next `kubectl apply -f` then finds nothing to change, and the old value
// does not live on in the annotation.
import { LAST_APPLIED } from './ownership.js';

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** Go's json.Encoder output for the same data: HTML-sensitive characters and the two JS line separators escaped. */
const goJson = (value: unknown): string =>
  `${JSON.stringify(sorted(value))
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')}\n`;

/** The annotation kubectl apply would set for the manifest's `object`. */
export function lastAppliedFor(object: Record<string, unknown>): string {
  const metadata = { ...((object.metadata ?? {}) as Record<string, unknown>) };
  const annotations = { ...((metadata.annotations ?? {}) as Record<string, unknown>) };
  delete annotations[LAST_APPLIED];
  // kubectl sets the annotations map back even when it is left empty: `"annotations":{}` is in every such value.
  metadata.annotations = annotations;
  return goJson({ ...object, metadata });
}

/**
 * The annotation after rotate's `changes`, for a Secret applied from something rotate does not parse as a manifest
 * (`kubectl create secret --from-env-file --dry-run=client -o yaml | kubectl apply -f -`): the same object with the
 * changed keys set where they are (`stringData` as text, else `data` in base64) or removed. Undefined when the
 * annotation is not JSON (left as it is).
 */
export function updatedLastApplied(annotation: string, changes: Readonly<Record<string, string | null>>): string | undefined {
  let object: Record<string, unknown>;
  try {
    object = JSON.parse(annotation) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const stringData = { ...((object.stringData ?? {}) as Record<string, string>) };
  const data = { ...((object.data ?? {}) as Record<string, string>) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) {
      delete stringData[key];
      delete data[key];
    } else if (key in stringData) stringData[key] = value;
    else data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  const out: Record<string, unknown> = { ...object };
  if (object.stringData !== undefined || Object.keys(stringData).length > 0) out.stringData = stringData;
  if (object.data !== undefined || Object.keys(data).length > 0) out.data = data;
  return goJson(out);
}

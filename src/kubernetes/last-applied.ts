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

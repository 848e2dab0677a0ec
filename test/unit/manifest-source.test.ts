// The Secret manifest editor compares bytes: only the edited scalar changes; comments, quoting, order, other
// documents and JSON layout stay as they were; the annotation matches what kubectl apply writes.
import { describe, expect, it } from 'vitest';
import { lastAppliedFor } from '../../src/kubernetes/last-applied.js';
import { editManifestSecret, manifestObject, readManifestSecret } from '../../src/kubernetes/manifest.js';

const ref = { namespace: 'co', name: 'app-secrets' };
const YAML = `# the platform's secrets (kubectl apply -f k8s/)
apiVersion: v1
kind: ConfigMap
metadata: { name: app-secrets, namespace: co }
data:
  JWT_SECRET: not-this-one
---
apiVersion: v1
kind: Secret
metadata:
  name: app-secrets   # the backend reads it with envFrom
  namespace: co
type: Opaque
stringData:
  JWT_SECRET: old-jwt-0123456789 # rotated by rotate
  DATABASE_URL: "postgresql+asyncpg://app:old%40pw@db:5432/co"
  REDIS_PASSWORD: 'old-redis'
data:
  STRIPE_SECRET_KEY: c2tfdGVzdF9vbGQ=
---
apiVersion: v1
kind: Secret
metadata: { name: app-secrets, namespace: other }
stringData: { JWT_SECRET: other-namespace }
`;

describe('Secret manifest source', () => {
  it('reads stringData and data (decoded) of the Secret with that name and namespace only', () => {
    expect(readManifestSecret(YAML, 'k8s/secrets.yaml', ref)).toEqual({
      JWT_SECRET: 'old-jwt-0123456789',
      DATABASE_URL: 'postgresql+asyncpg://app:old%40pw@db:5432/co',
      REDIS_PASSWORD: 'old-redis',
      STRIPE_SECRET_KEY: 'sk_test_old',
    });
  });

  it('replaces only the scalars, in their own quoting; every other byte stays', () => {
    const out = editManifestSecret(YAML, 'k8s/secrets.yaml', ref, {
      JWT_SECRET: 'new-jwt-abcdefghijklmnop',
      DATABASE_URL: 'postgresql+asyncpg://app:n3w@db:5432/co',
      REDIS_PASSWORD: "it's new",
      STRIPE_SECRET_KEY: 'sk_test_new',
    });
    expect(out).toBe(
      YAML.replace('old-jwt-0123456789 #', 'new-jwt-abcdefghijklmnop #')
        .replace('"postgresql+asyncpg://app:old%40pw@db:5432/co"', '"postgresql+asyncpg://app:n3w@db:5432/co"')
        .replace("'old-redis'", "'it''s new'")
        .replace('c2tfdGVzdF9vbGQ=', Buffer.from('sk_test_new').toString('base64')),
    );
  });

  it('a plain scalar whose new value YAML would read differently is double-quoted', () => {
    const out = editManifestSecret(YAML, 'k8s/secrets.yaml', ref, { JWT_SECRET: 'a: b # c' });
    expect(out).toBe(YAML.replace('old-jwt-0123456789 #', '"a: b # c" #'));
    expect(readManifestSecret(out, 'k8s/secrets.yaml', ref).JWT_SECRET).toBe('a: b # c');
  });

  it('adds a key at the end of stringData at its indent, and removes it again to the same bytes', () => {
    const added = editManifestSecret(YAML, 'k8s/secrets.yaml', ref, { JWT_SECRET_PREVIOUS: 'old-jwt-0123456789' });
    expect(added).toBe(
      YAML.replace("  REDIS_PASSWORD: 'old-redis'\n", '  REDIS_PASSWORD: \'old-redis\'\n  JWT_SECRET_PREVIOUS: "old-jwt-0123456789"\n'),
    );
    expect(editManifestSecret(added, 'k8s/secrets.yaml', ref, { JWT_SECRET_PREVIOUS: null })).toBe(YAML);
  });

  it('JSON: edits, adds and removes in the file layout', () => {
    const json = `{
  "apiVersion": "v1",
  "kind": "Secret",
  "metadata": { "name": "app-secrets", "namespace": "co" },
  "data": {
    "JWT_SECRET": "${Buffer.from('old').toString('base64')}",
    "OTHER": "a2VlcA=="
  }
}
`;
    const edited = editManifestSecret(json, 'secrets.json', ref, { JWT_SECRET: 'new' });
    expect(edited).toBe(json.replace(Buffer.from('old').toString('base64'), Buffer.from('new').toString('base64')));
    const added = editManifestSecret(json, 'secrets.json', ref, { NEXT: 'n' });
    expect(added).toBe(json.replace('"a2VlcA=="', `"a2VlcA==",\n    "NEXT": "${Buffer.from('n').toString('base64')}"`));
    expect(JSON.parse(added).data.NEXT).toBe(Buffer.from('n').toString('base64'));
    expect(editManifestSecret(added, 'secrets.json', ref, { NEXT: null })).toBe(json);
  });

  it('a file without the Secret, or not YAML: exit 2 naming the file and the fix', () => {
    expect(() => readManifestSecret(YAML, 'k8s/secrets.yaml', { namespace: 'co', name: 'nope' })).toThrow(
      expect.objectContaining({ code: 'SOURCE_NO_SECRET', exitCode: 2, message: expect.stringContaining('k8s/secrets.yaml') }),
    );
    expect(() => readManifestSecret('a: [unclosed', 'bad.yaml', ref)).toThrow(expect.objectContaining({ code: 'SOURCE_INVALID' }));
  });

  it('last-applied-configuration as kubectl writes it: sorted keys, empty annotations kept, Go escaping, final line feed', () => {
    const object = manifestObject(YAML, 'k8s/secrets.yaml', ref);
    expect(lastAppliedFor(object)).toBe(
      `${JSON.stringify({
        apiVersion: 'v1',
        data: { STRIPE_SECRET_KEY: 'c2tfdGVzdF9vbGQ=' },
        kind: 'Secret',
        metadata: { annotations: {}, name: 'app-secrets', namespace: 'co' },
        stringData: {
          DATABASE_URL: 'postgresql+asyncpg://app:old%40pw@db:5432/co',
          JWT_SECRET: 'old-jwt-0123456789',
          REDIS_PASSWORD: 'old-redis',
        },
        type: 'Opaque',
      })}\n`,
    );
    expect(lastAppliedFor({ kind: 'Secret', stringData: { A: '<&>' } })).toBe(
      '{"kind":"Secret","metadata":{"annotations":{}},"stringData":{"A":"\\u003c\\u0026\\u003e"}}\n',
    );
  });
});

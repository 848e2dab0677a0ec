// The JSON Schema editors use for rotate.config.json (schema/, written by npm run build): every key explained, and
// what the CLI accepts is what the editor accepts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs of the build scripts, without types
import { JSON_SCHEMA_FORMATS } from '../../scripts/json-schema-formats.mjs';
import { KIND_BY_ID } from '../../src/config/schema.js';
import { ROOT, runCli, scratchDir } from '../helpers/cli.js';

type Node = {
  properties?: Record<string, Node & { description?: string }>;
  additionalProperties?: Node | boolean;
  oneOf?: Node[];
  anyOf?: Node[];
  items?: Node;
  required?: string[];
};

const schema = (): Node => JSON.parse(readFileSync(join(ROOT, 'schema/rotate.config.schema.json'), 'utf8'));

function undescribed(node: Node | boolean | undefined, path: string, out: string[]): string[] {
  if (!node || typeof node !== 'object') return out;
  for (const branch of [...(node.oneOf ?? []), ...(node.anyOf ?? [])]) undescribed(branch, path, out);
  for (const [key, property] of Object.entries(node.properties ?? {})) {
    if (!property.description) out.push(`${path}${key}`);
    undescribed(property, `${path}${key}.`, out);
  }
  undescribed(node.additionalProperties, `${path}*.`, out);
  undescribed(node.items, path, out);
  return out;
}

describe('schema/rotate.config.schema.json', () => {
  it('explains every key (editors show the description)', () => {
    expect(undescribed(schema(), '', [])).toEqual([]);
  });

  it('uses only formats JSON Schema defines (a validator in strict mode refuses others; editors ignore them)', () => {
    const text = readFileSync(join(ROOT, 'schema/rotate.config.schema.json'), 'utf8');
    const formats = [...text.matchAll(/"format": "([^"]+)"/g)].map((m) => m[1]!);
    expect(formats.filter((f) => !JSON_SCHEMA_FORMATS.has(f))).toEqual([]);
    // What zod wrote as format: "starts_with" is kept as the pattern.
    expect(text).toContain('"pattern": "^we_.*"');
  });

  it('lets a built-in id leave out kind, as the CLI does', () => {
    const secrets = schema().properties!.secrets!;
    for (const [id, kind] of Object.entries(KIND_BY_ID)) {
      const entry = secrets.properties![id]!;
      expect(entry.properties!.kind, id).toMatchObject({ const: kind });
      expect(entry.required ?? [], id).not.toContain('kind');
    }
    // Any other id still names its kind.
    const other = (secrets.additionalProperties as Node).oneOf!;
    for (const branch of other) expect(branch.required).toContain('kind');
  });

  it('rotate init points $schema at a file that exists', async () => {
    const dir = scratchDir();
    expect((await runCli(['init'], { cwd: dir })).code).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'rotate.config.json'), 'utf8'));
    const path = written.$schema.startsWith('.') ? join(dir, written.$schema) : written.$schema;
    expect(existsSync(path), path).toBe(true);
  });
});

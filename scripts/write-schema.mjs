// Writes the JSON Schemas that ship in schema/: rotate.config.json's (for editors) and that of every --json document,
// each from the zod schema the CLI itself uses.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { describeConfigKey } from '../dist/config/descriptions.js';
import { configSchema, KIND_BY_ID } from '../dist/config/schema.js';
import { outputSchema } from '../dist/terminal/output-schema.js';
import { JSON_SCHEMA_FORMATS } from './json-schema-formats.mjs';

/** Puts a description on every key (editors show them); returns the paths that have none. */
function describe(node, path, missing) {
  if (!node || typeof node !== 'object') return missing;
  for (const branch of node.oneOf ?? node.anyOf ?? []) {
    const kind = branch.properties?.kind?.const;
    describe(branch, kind && path.endsWith('.*') ? `${path.slice(0, -1)}${kind}` : path, missing);
  }
  for (const [key, property] of Object.entries(node.properties ?? {})) {
    const at = path ? `${path}.${key}` : key;
    const text = describeConfigKey(at);
    if (text) property.description ??= text;
    else missing.push(at);
    describe(property, at, missing);
  }
  if (typeof node.additionalProperties === 'object') describe(node.additionalProperties, `${path}.*`, missing);
  if (node.items) describe(node.items, path, missing);
  return missing;
}

/** As in the CLI, a secret whose id names a kind may leave `kind` out: the editor must accept that too. */
function kindOptionalForBuiltInIds(schema) {
  const secrets = schema.properties.secrets;
  const branches = secrets.additionalProperties.oneOf;
  secrets.properties = {};
  for (const [id, kind] of Object.entries(KIND_BY_ID)) {
    const branch = structuredClone(branches.find((b) => b.properties.kind.const === kind));
    branch.required = (branch.required ?? []).filter((key) => key !== 'kind');
    branch.description = `The ${id} secret; kind may be left out (it is ${kind}).`;
    secrets.properties[id] = branch;
  }
}

/** zod writes checks such as startsWith as a `format` JSON Schema does not define (beside the pattern it also writes). */
function standardFormatsOnly(node) {
  if (!node || typeof node !== 'object') return node;
  if (typeof node.format === 'string' && !JSON_SCHEMA_FORMATS.has(node.format)) delete node.format;
  for (const value of Object.values(node)) standardFormatsOnly(value);
  return node;
}

mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
const config = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
config.title = 'rotate configuration';
const missing = describe(config, '', []);
if (missing.length > 0) console.warn(`write-schema: no description for ${missing.join(', ')} (add them in src/config/descriptions.ts)`);
kindOptionalForBuiltInIds(config);
standardFormatsOnly(config);
writeFileSync(new URL('../schema/rotate.config.schema.json', import.meta.url), `${JSON.stringify(config, null, 2)}\n`);

const output = z.toJSONSchema(outputSchema, { io: 'output', unrepresentable: 'any' });
output.title = 'rotate --json output';
standardFormatsOnly(output);
writeFileSync(new URL('../schema/rotate.output.schema.json', import.meta.url), `${JSON.stringify(output, null, 2)}\n`);

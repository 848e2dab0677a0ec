// Writes the JSON Schemas that ship in schema/: rotate.config.json's (for editors) and that of every --json document,
// each from the zod schema the CLI itself uses.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { configSchema } from '../dist/config/schema.js';
import { outputSchema } from '../dist/terminal/output-schema.js';

function write(name, zodSchema, title, io) {
  const schema = z.toJSONSchema(zodSchema, { io, unrepresentable: 'any' });
  schema.title = title;
  writeFileSync(new URL(`../schema/${name}`, import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);
}

mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
write('rotate.config.schema.json', configSchema, 'rotate configuration', 'input');
write('rotate.output.schema.json', outputSchema, 'rotate --json output', 'output');

// Writes the JSON Schema of rotate.config.json (for editors) from the zod schema the CLI validates with.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { configSchema } from '../dist/config/schema.js';

const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
schema.title = 'rotate configuration';
mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
writeFileSync(new URL('../schema/rotate.config.schema.json', import.meta.url), `${JSON.stringify(schema, null, 2)}\n`);

// Writes docs/errors.md from the error-code registry (src/error-codes.ts). Run with `npm run docs:errors`.
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../src/error-codes-doc.ts';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());

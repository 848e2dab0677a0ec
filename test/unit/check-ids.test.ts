// Every check carries a stable id (docs/checks.md): the registry (src/check-ids.ts), the code and the page agree, and
// no id is made from text that names an env key, a file or a value.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CHECK_IDS } from '../../src/check-ids.js';
import { check } from '../../src/core-types.js';
import { outputSchema } from '../../src/terminal/output-schema.js';

const ROOT = join(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const documented = (): string[] =>
  [...readFileSync(join(ROOT, 'docs/checks.md'), 'utf8').matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]!);

it('ids are kebab-case, unique, and name no env key', () => {
  for (const id of CHECK_IDS) expect(id).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
  expect(new Set(CHECK_IDS).size).toBe(CHECK_IDS.length);
});

it('every id is documented in docs/checks.md, and every documented id is a registered one', () => {
  const docs = documented();
  expect(new Set(docs).size).toBe(docs.length);
  expect([...docs].sort()).toEqual([...CHECK_IDS].sort());
});

it('every registered id is used in src/ (the compiler holds every used id to the registry)', () => {
  const code = sources(join(ROOT, 'src'))
    .filter((file) => !file.endsWith('check-ids.ts'))
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  expect(CHECK_IDS.filter((id) => !code.includes(`'${id}'`))).toEqual([]);
});

it('no check is built without an id, nor with an id made at run time from text', () => {
  const offenders: string[] = [];
  for (const file of sources(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    // check() of core-types takes the id first: a literal, or a variable set from literals; never a template or a field.
    for (const match of text.matchAll(/(?<![.\w])check\(\s*(`|\w+\.\w+)/g)) offenders.push(`${file}: ${match[0]}`);
  }
  expect(offenders).toEqual([]);
});

it('the --json output schema lists the ids, so a validator refuses one that is not documented', () => {
  const good = { id: 'service-healthy', name: 'service backend is healthy', ok: true };
  const doc = (c: object) => ({
    schemaVersion: 1,
    command: 'verify',
    ok: true,
    exitCode: 0,
    results: [{ secret: 'jwt', kind: 'jwt', status: 'verified', checks: [c], facts: {}, envKeys: [], steps: [] }],
  });
  expect(outputSchema.safeParse(doc(good)).success).toBe(true);
  expect(outputSchema.safeParse(doc({ ...good, id: 'backend-healthy' })).success).toBe(false);
  expect(outputSchema.safeParse(doc({ name: good.name, ok: true })).success).toBe(false);
  expect(check('env-key-present', 'JWT_SECRET is set', true)).toEqual({ id: 'env-key-present', name: 'JWT_SECRET is set', ok: true });
});

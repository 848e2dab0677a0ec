// Check names (the second argument of check(); the first is the stable id, docs/checks.md) read as plain phrases ("admin URL connects", "JWT_SECRET holds the new secret"): not kebab-case ids
// ("admin-url-connects") nor config paths ("webhook.verifyUrl set"), so that people and scripts see one style.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

it('every check name in src/ is a phrase in one style', () => {
  const names: string[] = [];
  for (const file of sources(SRC)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bcheck\(\s*[^,()]+,\s*(['`])((?:(?!\1).)*)\1/g)) names.push(match[2]!);
  }
  expect(names.length).toBeGreaterThan(20);
  // ${...} placeholders stand for env names like DATABASE_URL; what is around them must be words and spaces.
  const offenders = names.filter((name) => {
    const text = name.replace(/\$\{[^}]*\}/g, 'ENV_NAME');
    return /[A-Za-z]-[A-Za-z]/.test(text) || /[a-z]\.[a-z]/i.test(text) || /^[a-z]+(-[a-z]+)+$/.test(text);
  });
  expect(offenders).toEqual([]);
});

// The engine has one door: commands import src/engine/index.ts and no other engine module (statically or with a
// dynamic import, types included), and the door loads nothing heavy when it is imported.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const COMMANDS = join(import.meta.dirname, '../../src/commands');
const ENGINE_IMPORT = /(?:from\s+|import\s*\(\s*)['"]\.\.\/engine\/([^'"]+)['"]/g;

describe('the engine door', () => {
  it('commands import the engine only through engine/index.js', () => {
    const offenders: string[] = [];
    for (const file of readdirSync(COMMANDS).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(COMMANDS, file), 'utf8');
      for (const match of text.matchAll(ENGINE_IMPORT)) {
        if (match[1] !== 'index.js') offenders.push(`src/commands/${file}: ../engine/${match[1]}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the door imports only types at load time: every engine module loads on its first call', () => {
    const text = readFileSync(join(import.meta.dirname, '../../src/engine/index.ts'), 'utf8');
    const staticImports = [...text.matchAll(/^import\s+(?!type\b)[^;]*;/gm)].map((m) => m[0]);
    const valueExports = [...text.matchAll(/^export\s+\{[^}]*\}\s+from/gm)].map((m) => m[0]);
    expect([...staticImports, ...valueExports]).toEqual([]);
  });
});

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/error-codes.js';
import { renderErrorsDoc } from '../../src/error-codes-doc.js';
import { ExitCode, RotateError, usageError } from '../../src/errors.js';

const root = join(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Calls whose argument at this index is an error code (typed `ErrorCode`, but the scan also catches a cast). */
const CODE_ARGUMENT: Record<string, number> = { RotateError: 0, usageError: 0, connectError: 0, assertChecks: 1 };

/** The string literals an expression can evaluate to: 'A', c ? 'A' : 'B', x ?? 'A'. */
function resultLiterals(node: ts.Expression): string[] {
  if (ts.isStringLiteralLike(node)) return [node.text];
  if (ts.isParenthesizedExpression(node)) return resultLiterals(node.expression);
  if (ts.isConditionalExpression(node)) return [...resultLiterals(node.whenTrue), ...resultLiterals(node.whenFalse)];
  if (ts.isBinaryExpression(node) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(node.operatorToken.kind)) {
    return [...resultLiterals(node.left), ...resultLiterals(node.right)];
  }
  return [];
}

/** Every error code written in src/: the code argument of the calls above, and every `code: '...'` property. */
function codesInSource(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (code: string, where: string) => found.set(code, [...(found.get(code) ?? []), where]);
  for (const file of sourceFiles(join(root, 'src'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const where = (node: ts.Node) => `${file.slice(root.length + 1)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && ts.isIdentifier(node.expression)) {
        const index = CODE_ARGUMENT[node.expression.text];
        const argument = index === undefined ? undefined : node.arguments?.[index];
        if (argument) for (const code of resultLiterals(argument)) add(code, where(node));
      }
      if (ts.isPropertyAssignment(node) && node.name.getText() === 'code') {
        for (const code of resultLiterals(node.initializer)) add(code, where(node));
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');

describe('the error-code registry', () => {
  const registered = new Set(Object.keys(ERROR_CODES));
  const used = codesInSource();

  it('holds every code that src/ throws or reports', () => {
    const missing = [...used].filter(([code]) => !registered.has(code)).map(([code, where]) => `${code} (${where.join(', ')})`);
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(50);
  });

  it('holds no code that src/ never uses', () => {
    expect([...registered].filter((code) => !used.has(code))).toEqual([]);
  });

  it('is what docs/errors.md says (npm run docs:errors rewrites it)', () => {
    expect(readFileSync(join(root, 'docs/errors.md'), 'utf8')).toBe(renderErrorsDoc());
  });

  it('links every code to a page and heading that exist', () => {
    const broken = Object.entries(ERROR_CODES).flatMap(([code, { doc }]) => {
      const [page = '', anchor] = doc.split('#');
      const path = join(root, 'docs', page);
      if (!existsSync(path)) return [`${code}: ${doc} (no page)`];
      const headings = readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => /^#{1,4} /.test(line))
        .map((line) => anchorOf(line.replace(/^#+ /, '')));
      return anchor === undefined || headings.includes(anchor) ? [] : [`${code}: ${doc} (no such heading)`];
    });
    expect(broken).toEqual([]);
  });

  it('gives an error its exit code, and its hint when the thrower gave none', () => {
    expect(new RotateError('LOCKED', 'held').exitCode).toBe(ExitCode.locked);
    expect(new RotateError('LOCKED', 'held').hint).toBe(ERROR_CODES.LOCKED.hint);
    expect(new RotateError('LOCKED', 'held', { hint: 'wait' }).hint).toBe('wait');
    expect(usageError('USAGE', 'bad').exitCode).toBe(ExitCode.usage);
    const code: ErrorCode = 'STORE_CORRUPT';
    expect(new RotateError(code, 'x').exitCode).toBe(ExitCode.needsPerson);
  });

  it('refuses, at compile time, a code it does not hold', () => {
    // @ts-expect-error NOT_A_CODE is not in the registry: `npm run typecheck` fails if this line compiles.
    const cast = new RotateError('NOT_A_CODE', 'x');
    expect([cast.exitCode, cast.hint]).toEqual([ExitCode.failed, undefined]);
    // @ts-expect-error usageError takes only codes registered with exit 2.
    expect(usageError('LOCKED', 'x').exitCode).toBe(ExitCode.locked);
  });
});

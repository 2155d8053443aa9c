import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const testRoot = resolve(import.meta.dirname, '..');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `pollDeadline`, a `{ ...pollDeadline }` or any object literal naming `timeout`. */
function hasTimeout(options: ts.Expression | undefined): boolean {
  if (!options) return false;
  if (ts.isIdentifier(options)) return options.text === 'pollDeadline';
  if (!ts.isObjectLiteralExpression(options)) return false;
  return options.properties.some(
    (p) =>
      (ts.isSpreadAssignment(p) && ts.isIdentifier(p.expression) && p.expression.text === 'pollDeadline') ||
      ((ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) && ts.isIdentifier(p.name) && p.name.text === 'timeout'),
  );
}

/** Every `expect.poll(…)` in `source` without an explicit timeout, as `file:line`. */
function pollsWithoutTimeout(file: string, source: string): string[] {
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === 'expect' &&
      node.expression.name.text === 'poll' &&
      !hasTimeout(node.arguments[1])
    ) {
      found.push(`${file}:${tree.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}

describe('expect.poll deadlines', () => {
  it('every expect.poll in test/ names its timeout (pollDeadline), none relies on the 1 s default', () => {
    const files = testFiles(testRoot);
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((file) => {
      const source = readFileSync(file, 'utf8');
      // Parsing only files that mention a poll keeps the guard quick; the parse finds the calls.
      return source.includes('poll') ? pollsWithoutTimeout(relative(testRoot, file), source) : [];
    });
    expect(offenders).toEqual([]);
  });

  it('the guard sees a poll on the default deadline, and accepts one with pollDeadline or a timeout', () => {
    const source = [
      'await expect.poll(() => x).toBe(1);',
      'await expect.poll(() => x, { interval: 5 }).toBe(1);',
      'await expect.poll(() => x, pollDeadline).toBe(1);',
      'await expect.poll(() => x, { ...pollDeadline, interval: 5 }).toBe(1);',
      'await expect.poll(() => x, { timeout: 30_000 }).toBe(1);',
    ].join('\n');
    expect(pollsWithoutTimeout('example.test.ts', source)).toEqual(['example.test.ts:1', 'example.test.ts:2']);
  });
});

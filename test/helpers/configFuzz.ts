import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { z } from 'zod';
import { ConfigError, formatPath } from '../../protocol/configFile.js';
import { applyEdits, jsonEdits, jsonPaths, mutatedJsonText, notJson, type JsonEdit, type JsonPath } from './jsonMutations.js';
import { useTempDir } from './tempDir.js';

/**
 * Property tests for a JSON config loader (DESIGN.md: "an invalid file is refused at start
 * with the path of every bad field"). Three properties over a valid config:
 *
 * - any damage (JSON edits, broken text, random bytes) loads or throws a ConfigError whose
 *   problems are `path: message` lines, never anything else;
 * - fields set to a value of the wrong kind are each named by their own path;
 * - a field made bad only in relation to another (a duplicate, a min above a max) is still
 *   named when other fields are bad too: one pass names every problem.
 */

export interface ConfigSubject {
  readonly valid: unknown;
  readonly schema: z.ZodType;
  readonly load: (file: string) => unknown;
}

type Kind = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

function kindOf(value: unknown): Kind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as Kind;
}

/**
 * Values no field of that kind can take: no config field is nullable, and the only unions
 * (USB ids) take a number or a string, so a string never becomes a number here.
 */
const wrongFor: Record<Kind, readonly unknown[]> = {
  string: [null, true, [], {}],
  number: [null, true, 'x', [], {}],
  boolean: [null, 0, 'true', [], {}],
  null: [true],
  array: [null, 'x', 1, {}],
  object: [null, 'x', 1, []],
};

function valueAt(root: unknown, path: JsonPath): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}

/** The path of each problem line (`lanes[0].gpio.chip: expected …` -> `lanes[0].gpio.chip`). */
function problemPaths(problems: readonly string[]): string[] {
  return problems.map((line) => line.slice(0, line.indexOf(': ')));
}

/** Whether `problems` name `path`: exactly, or by a bad `type` above it (the rest of that object cannot be judged). */
function named(paths: readonly string[], path: string): boolean {
  return paths.some((p) => p === path || (p.endsWith('.type') && path.startsWith(p.slice(0, -'type'.length))));
}

function related(a: JsonPath, b: JsonPath): boolean {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n).every((key, i) => key === b[i]);
}

export class ConfigFuzz {
  private readonly file: string;

  /** `dir`: a folder for the config file, rewritten for each case. */
  constructor(
    private readonly subject: ConfigSubject,
    dir: string,
  ) {
    this.file = join(dir, 'config.json');
  }

  /** Writes `content`, loads it: null when it loads, else the ConfigError's problems. Anything else thrown fails the test. */
  problems(content: string | Buffer): string[] | null {
    const file = this.file;
    writeFileSync(file, content);
    try {
      this.subject.load(file);
      return null;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      expect(err.file).toBe(file);
      expect(err.problems.length).toBeGreaterThan(0);
      // A field's path, or the whole file when it is not JSON at all.
      for (const line of err.problems) expect(line).toMatch(/^(\(top level\)|[A-Za-z0-9_\][.]+|not valid JSON): \S/);
      return [...err.problems];
    }
  }

  /** The issues one edit alone causes, straight from the schema. */
  private aloneIssues(edit: JsonEdit): z.core.$ZodIssue[] {
    const parsed = this.subject.schema.safeParse(applyEdits(this.subject.valid, [edit]));
    return parsed.success ? [] : parsed.error.issues;
  }

  /** The paths of the problems one edit alone causes. */
  private alone(edit: JsonEdit): string[] {
    return this.aloneIssues(edit).map((issue) => formatPath(issue.path));
  }

  /** Any damage at all: loads or is refused as a ConfigError. */
  anyDamage(): fc.IPropertyWithHooks<[string | Buffer]> {
    const text = JSON.stringify(this.subject.valid, null, 2);
    const damage: fc.Arbitrary<string | Buffer> = fc.oneof(
      jsonEdits(this.subject.valid, 5).map((edits) => JSON.stringify(applyEdits(this.subject.valid, edits))),
      mutatedJsonText(text),
      notJson,
    );
    return fc.property(damage, (content) => {
      this.problems(content);
    });
  }

  /** Wrong-kind values at unrelated fields: each one named by its own path. */
  wrongKinds(): fc.IPropertyWithHooks<[JsonEdit[]]> {
    return fc.property(this.wrongKindEdits(4), (edits) => {
      const problems = this.problems(JSON.stringify(applyEdits(this.subject.valid, edits)));
      expect(problems, 'a config with wrong-kind fields loaded').not.toBeNull();
      const paths = problemPaths(problems!);
      for (const edit of edits) expect(named(paths, formatPath(edit.path)), `${formatPath(edit.path)} not named in ${JSON.stringify(problems)}`).toBe(true);
    });
  }

  /**
   * A leaf given another leaf's value (a duplicate pin, a minimum above its maximum), bad
   * only next to its partner, plus wrong-kind strings elsewhere: what the first edit alone
   * is refused for must still be named. Contexts refused by a cross-field rule (a zod
   * `custom` issue) are drawn most often: they are the ones other problems can hide.
   *
   * The wrong-kind edits spare every leaf holding the borrowed value (the likely partner),
   * and the edited leaf's siblings unless it is a number (`confirm` next to `attended` can
   * settle that conflict; a number only ever conflicts with numbers).
   */
  relational(): fc.IPropertyWithHooks<[{ context: JsonEdit; others: JsonEdit[] }]> {
    const valid = this.subject.valid;
    const leaves = jsonPaths(valid).filter((path) => ['number', 'string', 'boolean'].includes(kindOf(valueAt(valid, path))));
    const contexts = leaves.flatMap((to) =>
      leaves
        .filter((from) => kindOf(valueAt(valid, to)) === kindOf(valueAt(valid, from)) && valueAt(valid, to) !== valueAt(valid, from))
        .map((from): JsonEdit => ({ op: 'set', path: to, value: valueAt(valid, from) })),
    );
    const refused = contexts.filter((edit) => this.alone(edit).length > 0);
    const crossField = refused.filter((edit) => this.aloneIssues(edit).some((issue) => issue.code === 'custom'));
    const stringLeaves = leaves.filter((path) => kindOf(valueAt(valid, path)) === 'string');
    const context = crossField.length === 0 ? fc.constantFrom(...refused) : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...crossField) }, { weight: 1, arbitrary: fc.constantFrom(...refused) });
    return fc.property(
      context.chain((edit) => {
        const parent = formatPath(edit.path.slice(0, -1));
        const numeric = typeof edit.value === 'number';
        const spared = stringLeaves.filter((p) => valueAt(valid, p) !== edit.value && (numeric || formatPath(p.slice(0, -1)) !== parent));
        const others: fc.Arbitrary<JsonEdit[]> =
          spared.length === 0
            ? fc.constant([])
            : fc
                .uniqueArray(fc.constantFrom(...spared), { minLength: 1, maxLength: 3 })
                .chain((paths) => fc.tuple(...paths.map((path) => fc.constantFrom(...wrongFor.string).map((value): JsonEdit => ({ op: 'set', path, value })))))
                .map((edits) => [...edits]);
        return fc.record({ context: fc.constant(edit), others });
      }),
      ({ context, others }) => {
        const problems = this.problems(JSON.stringify(applyEdits(valid, [context, ...others])));
        const paths = problemPaths(problems ?? []);
        for (const path of this.alone(context)) expect(named(paths, path), `${path} not named in ${JSON.stringify(problems)}`).toBe(true);
      },
    );
  }

  private wrongKindEdits(maxEdits: number): fc.Arbitrary<JsonEdit[]> {
    const paths = jsonPaths(this.subject.valid);
    const edit = fc.constantFrom(...paths).chain((path) => fc.constantFrom(...wrongFor[kindOf(valueAt(this.subject.valid, path))]).map((value): JsonEdit => ({ op: 'set', path, value })));
    return fc.uniqueArray(edit, { minLength: 1, maxLength: maxEdits, comparator: (a, b) => related(a.path, b.path) });
  }
}

export interface ConfigRuns {
  readonly anyDamage: number;
  readonly wrongKinds: number;
  readonly relational: number;
}

/** The three properties as tests, inside the caller's `describe`; each says its case count. */
export function configPropertyTests(subject: ConfigSubject, runs: ConfigRuns): void {
  const tempDir = useTempDir();
  const fuzz = (): ConfigFuzz => new ConfigFuzz(subject, tempDir());

  it(`loads or throws ConfigError, whatever the damage (${runs.anyDamage} cases)`, () => {
    fc.assert(fuzz().anyDamage(), { numRuns: runs.anyDamage });
  });

  it(`names every field given a value of the wrong kind (${runs.wrongKinds} cases)`, () => {
    fc.assert(fuzz().wrongKinds(), { numRuns: runs.wrongKinds });
  });

  it(`names a field bad next to another even when other fields are bad too (${runs.relational} cases)`, () => {
    fc.assert(fuzz().relational(), { numRuns: runs.relational });
  });
}

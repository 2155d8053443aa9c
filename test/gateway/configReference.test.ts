import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { main } from '../../cli/main.js';
import { configReference, referenceEnd, referenceStart, withReference } from '../../gateway/configReference.js';

const root = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

/** Every leaf field path of a config, arrays as `[]`, as the reference names them. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.every((v) => typeof v === 'object' && v !== null) ? value.flatMap((v) => leafPaths(v, `${prefix}[]`)) : [prefix];
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([key, v]) => leafPaths(v, prefix === '' ? key : `${prefix}.${key}`));
}

describe('the terminal config reference in docs/terminal.md', () => {
  it('is the table the schema generates (run `qrgate config-reference --write docs/terminal.md` after changing the schema)', () => {
    const doc = read('docs/terminal.md');
    expect(doc).toContain(referenceStart);
    expect(withReference(doc, configReference(), 'docs/terminal.md')).toBe(doc);
  });

  it('names every field the example configs use, with its default', () => {
    const reference = configReference();
    const fields = new Set([...reference.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]));
    for (const example of ['docs/examples/terminal.pi.json', 'docs/examples/terminal.sim.json']) {
      for (const path of leafPaths(JSON.parse(read(example)))) expect(fields, `${example}: ${path}`).toContain(path);
    }
    expect(reference).toContain('| `policy.relayPulseMs` | integer 50–60000 |  | `1000` | how long a grant energises the relay, ms |');
    expect(reference).toContain('| `lanes[].scanner.path` (serial) | string of 1+ chars | yes |');
  });

  it('refuses a field without a description, naming it, so the table has no blank rows', () => {
    expect(() => configReference(z.strictObject({ lanes: z.array(z.strictObject({ name: z.string() })).describe('lanes') }))).toThrow(
      'terminal config field lanes[].name has no description',
    );
  });

  it('is printed by `qrgate config-reference`; --write refuses a file without the markers', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } } as never;
    expect(await main(['config-reference'], io)).toBe(0);
    expect(out.join('')).toBe(`${configReference()}\n`);
    expect(() => withReference('# no markers here\n', 'table', 'README.md')).toThrow(`README.md has no config reference markers: put ${referenceStart} and ${referenceEnd}`);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyListFile } from '../../../gateway/lists/applyFile.js';
import type { ApplyPhases } from '../../../gateway/lists/applyResult.js';
import { openListWriter, type ListWriter } from '../../../gateway/lists/listWriter.js';
import { generateKeyFiles, loadPublicKeys } from '../../../protocol/keys.js';
import { sha256Hex, type ListEntry } from '../../../protocol/lists/index.js';
import { sequentialRef, writeList } from '../../helpers/lists.js';
import { useTempDir } from '../../helpers/tempDir.js';

function* entries(count: number, version: number): Generator<ListEntry> {
  for (let n = 0; n < count; n++) yield { ref: sequentialRef(n, version), status: 'allow' };
}

/**
 * An apply's time is "verify and install" (docs/benchmarks.md, bench lists): it starts
 * before the file's hash or signature is checked, and says where it went.
 */
describe('an apply reports its time from before the file is checked', () => {
  const tempDir = useTempDir();
  const writers: ListWriter[] = [];
  afterEach(() => {
    for (const writer of writers.splice(0)) writer.close();
  });

  function setUp() {
    const dir = tempDir();
    const keys = generateKeyFiles(join(dir, 'keys'));
    const writer = openListWriter(join(dir, 'data'));
    writers.push(writer);
    const options = { trustedKeys: loadPublicKeys([keys.authorityPub]), scopes: ['site-a'] };
    const write = (version: number, count: number) => writeList(join(dir, 'keys'), join(dir, `list-${version}`), { scope: 'site-a', version }, entries(count, version));
    return { writer, options, write };
  }

  const sumOf = (phases: ApplyPhases): number => Object.values(phases).reduce((a, b) => a + b, 0);

  it('a fetched file: the hash check, the writes, the commit and the drop add up to applyMs', () => {
    const { writer, options, write } = setUp();
    const first = write(1, 20_000);
    applyListFile(writer, first, { ...options, expected: { sha256: sha256Hex(readFileSync(first)), version: 1, resultCount: 20_000 } });
    const second = write(2, 20_000);
    const expected = { sha256: sha256Hex(readFileSync(second)), version: 2, resultCount: 20_000 };
    const before = performance.now();
    const result = applyListFile(writer, second, { ...options, expected });
    const outside = performance.now() - before;
    expect(result).toMatchObject({ version: 2, kind: 'snapshot', entries: 20_000 });
    expect(Object.keys(result.phases).sort()).toEqual(['commitMs', 'dropMs', 'verifyMs', 'writeMs']);
    expect(result.phases.verifyMs).toBeGreaterThan(0);
    expect(result.phases.writeMs).toBeGreaterThan(0);
    expect(result.applyMs).toBeGreaterThanOrEqual(sumOf(result.phases) - 0.001);
    // Time inside the call, not a clock reading: no more than the caller saw pass.
    expect(result.applyMs).toBeLessThanOrEqual(outside);
    expect(result.phases.verifyMs).toBeLessThan(result.applyMs);
  });

  it('a file without a manifest: its signature check counts too', () => {
    const { writer, options, write } = setUp();
    const result = applyListFile(writer, write(1, 20_000), options);
    expect(result.phases.verifyMs).toBeGreaterThan(0);
    expect(result.applyMs).toBeGreaterThanOrEqual(sumOf(result.phases) - 0.001);
  });
});

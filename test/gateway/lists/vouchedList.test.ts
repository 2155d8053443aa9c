import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openVouchedList, type VouchedListOptions } from '../../../gateway/lists/vouchedList.js';
import { generateKeyFiles, loadPublicKeys } from '../../../protocol/keys.js';
import { sha256Hex, verifySignedList, type ListEntry, type ListStatus } from '../../../protocol/lists/index.js';
import { sequentialRef, writeList } from '../../helpers/lists.js';
import { useTempDir } from '../../helpers/tempDir.js';

const statuses: readonly ListStatus[] = ['allow', 'deny', 'check'];

/** Every entry shape, so entries of 33, 37 and 41 bytes straddle the 1 MB read blocks. */
function* mixed(count: number): Generator<ListEntry> {
  for (let n = 0; n < count; n++) {
    const entry: { ref: Buffer; status: ListStatus; validFrom?: number; validUntil?: number } = { ref: sequentialRef(n, 3), status: statuses[n % 3]! };
    if (n % 4 === 1 || n % 4 === 3) entry.validFrom = 1_700_000_000_000 + n * 1000;
    if (n % 4 >= 2) entry.validUntil = 1_800_000_000_000 + n * 1000;
    yield entry;
  }
}

/**
 * Where two entry lists first differ (ref bytes, status, window, which fields are set), or
 * null. The same verdict as `toEqual`, which spends ~6 s of CPU on 100,000 entries with their
 * Buffers: the whole test's cost, paid again for every mutant it covers.
 */
function firstDifference(read: readonly ListEntry[], expected: readonly ListEntry[]): { at: number; read?: ListEntry; expected?: ListEntry } | null {
  const fields = (entry: ListEntry) => Object.keys(entry).sort().join();
  for (let at = 0; at < Math.max(read.length, expected.length); at++) {
    const a = read[at];
    const b = expected[at];
    const same =
      a !== undefined &&
      b !== undefined &&
      fields(a) === fields(b) &&
      a.ref.equals(b.ref) &&
      a.status === b.status &&
      a.validFrom === b.validFrom &&
      a.validUntil === b.validUntil;
    if (!same) return { at, ...(a ? { read: a } : {}), ...(b ? { expected: b } : {}) };
  }
  return null;
}

describe('a list file vouched for by its manifest, read a block at a time', () => {
  const tempDir = useTempDir();

  function setUp(count = 100_000) {
    const dir = tempDir();
    const keysDir = join(dir, 'keys');
    const keys = generateKeyFiles(keysDir);
    const trustedKeys = loadPublicKeys([keys.authorityPub]);
    const file = writeList(keysDir, join(dir, 'list'), { scope: 'site-a', version: 4 }, mixed(count));
    const options = (bytes: Buffer = readFileSync(file)): VouchedListOptions => ({
      sha256: sha256Hex(bytes),
      trustedKeys,
      scopes: ['site-a'],
      installedVersion: () => null,
    });
    return { dir, keysDir, trustedKeys, file, options };
  }

  it('yields exactly the entries verifySignedList reads from the whole file, across block boundaries', () => {
    const { file, options, trustedKeys } = setUp();
    const bytes = readFileSync(file);
    expect(bytes.length).toBeGreaterThan(3 * (1 << 20));
    const whole = verifySignedList(bytes, { trustedKeys, scope: 'site-a' });
    const vouched = openVouchedList(file, options());
    expect(vouched.header).toEqual(whole.header);
    expect(vouched.keyId).toBe(whole.keyId);
    expect(vouched.byteLength).toBe(bytes.length);
    const expected = [...whole.entries()];
    const read = [...vouched.entries()];
    expect(read).toHaveLength(whole.header.count);
    expect(firstDifference(read, expected)).toBeNull();

    // Views into the reused read buffers: each entry, and the one before it (what the
    // writer holds back to check the order), read right while the stream goes on.
    let n = 0;
    let previous: Buffer | null = null;
    const wrong: number[] = [];
    for (const entry of vouched.entries({ views: true })) {
      if (!entry.ref.equals(expected[n]!.ref) || (previous !== null && !previous.equals(expected[n - 1]!.ref))) wrong.push(n);
      previous = entry.ref;
      n++;
    }
    expect([n, wrong.slice(0, 5)]).toEqual([expected.length, []]);
  });

  it('refuses a file whose hash is not the one the manifest names, before parsing a byte of it', () => {
    const { file, options } = setUp(1000);
    const expected = options();
    const bytes = readFileSync(file);
    bytes[200]! ^= 1;
    writeFileSync(file, bytes);
    expect(() => openVouchedList(file, expected)).toThrow(expect.objectContaining({ code: 'hash-mismatch' }));
    writeFileSync(file, 'not a list at all');
    // The technician's log line names both hashes: which file arrived, and which was announced.
    const arrived = sha256Hex(Buffer.from('not a list at all'));
    expect(() => openVouchedList(file, expected)).toThrow(
      expect.objectContaining({ code: 'hash-mismatch', message: `list file has SHA-256 ${arrived}, the manifest says ${expected.sha256}` }),
    );
  });

  it('still refuses another scope, a rollback and a key it does not trust', () => {
    const { file, options, dir } = setUp(1000);
    expect(() => openVouchedList(file, { ...options(), scopes: ['site-b'] })).toThrow(expect.objectContaining({ code: 'wrong-scope' }));
    expect(() => openVouchedList(file, { ...options(), installedVersion: () => 5 })).toThrow(expect.objectContaining({ code: 'rollback' }));
    const stranger = loadPublicKeys([generateKeyFiles(join(dir, 'other')).authorityPub]);
    expect(() => openVouchedList(file, { ...options(), trustedKeys: stranger })).toThrow(expect.objectContaining({ code: 'unknown-key' }));
  });

  it('refuses entries that break the format even when the hash matches, naming what is wrong', () => {
    const { file, options } = setUp(1000);
    const bytes = readFileSync(file);
    const body = bytes.subarray(0, bytes.length - 72);
    const trailer = bytes.subarray(bytes.length - 72);
    // What the terminal logs when it refuses the file: the rule broken, not only "malformed".
    const refusalOf = (changed: Buffer) => {
      writeFileSync(file, changed);
      return () => [...openVouchedList(file, options(changed)).entries()];
    };
    const malformedWith = (text: string) => expect.objectContaining({ code: 'malformed', message: expect.stringContaining(text) });
    // The last entry (a 41-byte one: 999 % 4 === 3) dropped, the trailer kept: the count no longer fits.
    expect(refusalOf(Buffer.concat([body.subarray(0, body.length - 41), trailer]))).toThrow(malformedWith('header says 1000 entries, the file holds 999'));
    // Its validUntil cut short: the entry runs into the trailer.
    expect(refusalOf(Buffer.concat([body.subarray(0, body.length - 4), trailer]))).toThrow(malformedWith('entry 1000 runs past the entries'));
    // An entry more than the header counts.
    expect(refusalOf(Buffer.concat([body, body.subarray(body.length - 33), trailer]))).toThrow(malformedWith('bytes left over after 1000 entries'));
    // Shorter than a list's fixed parts, whatever its hash.
    expect(refusalOf(Buffer.from('QGL1'))).toThrow(malformedWith('4 bytes is too short to be a list'));
    // Unknown flag bits on the first entry.
    const flagged = Buffer.from(bytes);
    flagged[8 + flagged.readUInt32BE(4) + 32]! |= 0x80;
    writeFileSync(file, flagged);
    expect(() => [...openVouchedList(file, options(flagged)).entries()]).toThrow(/entry 1 has unknown flags/);
  });

  it('reads a list whose last entry is a plain one, ending the entries on its very byte', () => {
    // mixed(n) ends on a dated entry whenever n is a multiple of 4; here the last is 33 bytes.
    for (const count of [1, 5]) {
      const { file, options } = setUp(count);
      const entries = [...openVouchedList(file, options()).entries()];
      expect(firstDifference(entries, [...mixed(count)])).toBeNull();
      expect(Object.keys(entries.at(-1)!).sort()).toEqual(['ref', 'status']);
    }
  });

  it('reads an empty list', () => {
    const { dir, keysDir } = setUp(1);
    const file = writeList(keysDir, join(dir, 'empty'), { scope: 'site-a', version: 1 }, []);
    const trustedKeys = loadPublicKeys([join(keysDir, 'authority.pub')]);
    const list = openVouchedList(file, { sha256: sha256Hex(readFileSync(file)), trustedKeys, scopes: ['site-a'], installedVersion: () => null });
    expect(list.header.count).toBe(0);
    expect([...list.entries()]).toEqual([]);
  });
});

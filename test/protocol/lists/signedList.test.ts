import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { keyId } from '../../../protocol/keys.js';
import {
  encodeSignedList,
  ListEncodeError,
  ListError,
  verifySignedList,
  type ListEntry,
  type ListHeaderInput,
} from '../../../protocol/lists/index.js';

const authorityA = generateKeyPairSync('ed25519');
const authorityB = generateKeyPairSync('ed25519');

function ref(n: number): Buffer {
  return createHash('sha256').update(`ref ${n}`).digest();
}

const snapshot: ListHeaderInput = {
  kind: 'snapshot',
  scope: 'site-a',
  version: 7,
  issuedAt: '2025-01-01T00:00:00.000Z',
  expiresAt: '2025-01-31T00:00:00.000Z',
};

const entries: ListEntry[] = [
  { ref: ref(1), status: 'allow' },
  { ref: ref(2), status: 'deny' },
  { ref: ref(3), status: 'check', validFrom: Date.parse('2025-01-01T08:00:00Z') },
  { ref: ref(4), status: 'allow', validUntil: Date.parse('2025-06-30T17:00:00Z') },
  { ref: ref(5), status: 'allow', validFrom: Date.parse('2025-01-01T00:00:00Z'), validUntil: Date.parse('2025-12-31T00:00:00Z') },
];

const trustA = { trustedKeys: [authorityA.publicKey], scope: 'site-a' };

function listError(fn: () => unknown): ListError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ListError);
    return err as ListError;
  }
  return expect.fail('expected a ListError');
}

function encodeError(fn: () => unknown): ListEncodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ListEncodeError);
    return err as ListEncodeError;
  }
  return expect.fail('expected a ListEncodeError');
}

/** A list file with any content, correctly signed: what a buggy or malicious authority could produce. */
function signRaw(header: object, body: Buffer, key: KeyObject = authorityA.privateKey): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  const signed = Buffer.concat([Buffer.from('QGL1'), length, json, body]);
  return Buffer.concat([signed, Buffer.from(keyId(key), 'hex'), sign(null, signed, key)]);
}

const rawHeader = { format: 1, ...snapshot };

function entryBytes(n: number, flags: number, extra: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([ref(n), Buffer.from([flags]), extra]);
}

describe('signed list round trip', () => {
  it('encodes and verifies a snapshot with every entry shape', () => {
    const bytes = encodeSignedList(snapshot, entries, authorityA.privateKey);
    const list = verifySignedList(bytes, trustA);
    expect(list.header).toEqual({ format: 1, ...snapshot, count: 5 });
    expect(list.keyId).toBe(keyId(authorityA.publicKey));
    expect(list.byteLength).toBe(bytes.length);
    expect([...list.entries()]).toEqual(entries);
    // Lazy and repeatable: a second pass reads the same entries.
    const iterator = list.entries();
    expect(iterator.next().value).toEqual(entries[0]);
    expect([...list.entries()]).toHaveLength(5);
  });

  it('writes format 2 only for a list holding a revoked card, and reads the revoked flag back', () => {
    const withRevoked: ListEntry[] = [...entries, { ref: ref(6), status: 'revoked' }, { ref: ref(7), status: 'revoked', validUntil: Date.parse('2025-06-30T17:00:00Z') }];
    const bytes = encodeSignedList(snapshot, withRevoked, authorityA.privateKey);
    const list = verifySignedList(bytes, trustA);
    expect(list.header).toEqual({ format: 2, ...snapshot, count: 7 });
    expect([...list.entries()]).toEqual(withRevoked);
    // On the wire a revoked entry is deny (status 1) with bit 4: same size as a deny.
    const body = bytes.subarray(8 + bytes.readUInt32BE(4));
    const flagsOf6 = body[body.length - 72 - 4 - 33 - 33 + 32]!;
    expect(flagsOf6).toBe(0b0001_0001);
  });

  it('reads a format 1 list as before: no entry of it is revoked', () => {
    const v1 = signRaw({ ...rawHeader, count: 2 }, Buffer.concat([entryBytes(1, 0), entryBytes(2, 1)]));
    const list = verifySignedList(v1, trustA);
    expect(list.header.format).toBe(1);
    expect([...list.entries()].map((e) => e.status)).toEqual(['allow', 'deny']);
  });

  it('refuses the revoked bit in a format 1 list, on anything but deny, and a format it does not know', () => {
    const inV1 = listError(() => verifySignedList(signRaw({ ...rawHeader, count: 1 }, entryBytes(1, 0x11)), trustA));
    expect(inV1.message).toContain('unknown flags for list format 1');
    for (const status of [0, 2]) {
      const onOther = listError(() => verifySignedList(signRaw({ ...rawHeader, format: 2, count: 1 }, entryBytes(1, 0x10 | status)), trustA));
      expect(onOther.message).toContain('only a deny entry can be revoked');
    }
    const delta = { ...rawHeader, format: 2, kind: 'delta', version: 8, baseVersion: 7 };
    expect(listError(() => verifySignedList(signRaw({ ...delta, count: 1 }, entryBytes(1, 0x13)), trustA)).message).toContain('only a deny entry can be revoked');
    expect(listError(() => verifySignedList(signRaw({ ...rawHeader, format: 2, count: 1 }, entryBytes(1, 0x21)), trustA)).message).toContain('unknown flags for list format 2');
    expect(listError(() => verifySignedList(signRaw({ ...rawHeader, format: 3, count: 0 }, Buffer.alloc(0)), trustA)).message).toContain('format');
  });

  it('reads refs as copies that outlive the file, or as views into it for a consumer that copies them at once', () => {
    const bytes = encodeSignedList(snapshot, entries, authorityA.privateKey);
    const list = verifySignedList(bytes, trustA);
    const copies = [...list.entries()];
    const views = [...list.entries({ views: true })];
    expect(views).toEqual(copies);
    bytes.fill(0);
    expect(copies).toEqual(entries);
    expect(views.every((entry) => entry.ref.equals(Buffer.alloc(32)))).toBe(true);
  });

  it('is compact: 33 bytes an entry plus 4 per time', () => {
    const bytes = encodeSignedList(snapshot, entries, authorityA.privateKey);
    const headerLength = bytes.readUInt32BE(4);
    expect(bytes.length).toBe(8 + headerLength + 5 * 33 + 4 * 4 + 72);
    expect(bytes.subarray(0, 4).toString()).toBe('QGL1');
  });

  it('encodes an empty list', () => {
    const list = verifySignedList(encodeSignedList(snapshot, [], authorityA.privateKey), trustA);
    expect(list.header.count).toBe(0);
    expect([...list.entries()]).toEqual([]);
  });

  it('carries deltas with remove entries', () => {
    const delta: ListHeaderInput = { ...snapshot, kind: 'delta', version: 9, baseVersion: 7 };
    const deltaEntries: ListEntry[] = [
      { ref: ref(1), status: 'remove' },
      { ref: ref(6), status: 'deny' },
    ];
    const list = verifySignedList(encodeSignedList(delta, deltaEntries, authorityA.privateKey), { ...trustA, installedVersion: 7 });
    expect(list.header.kind).toBe('delta');
    expect(list.header.baseVersion).toBe(7);
    expect([...list.entries()]).toEqual(deltaEntries);
  });

  it('rounds a window inwards to whole seconds, never widening it', () => {
    const bytes = encodeSignedList(snapshot, [{ ref: ref(1), status: 'allow', validFrom: 1_000_500, validUntil: 5_000_900 }], authorityA.privateKey);
    const [entry] = [...verifySignedList(bytes, trustA).entries()];
    expect(entry).toEqual({ ref: ref(1), status: 'allow', validFrom: 1_001_000, validUntil: 5_000_000 });
  });

  it('accepts lists from either key during a rotation', () => {
    const trustBoth = { trustedKeys: [authorityA.publicKey, authorityB.publicKey], scope: 'site-a' };
    const byA = verifySignedList(encodeSignedList(snapshot, entries, authorityA.privateKey), trustBoth);
    const byB = verifySignedList(encodeSignedList(snapshot, entries, authorityB.privateKey), trustBoth);
    expect(byA.keyId).toBe(keyId(authorityA.publicKey));
    expect(byB.keyId).toBe(keyId(authorityB.publicKey));
    expect([...byB.entries()]).toEqual(entries);
  });

  it('accepts one of several scopes, and the installed version again', () => {
    const bytes = encodeSignedList(snapshot, entries, authorityA.privateKey);
    expect(verifySignedList(bytes, { ...trustA, scope: ['province-tth', 'site-a'] }).header.scope).toBe('site-a');
    expect(verifySignedList(bytes, { ...trustA, installedVersion: 7 }).header.version).toBe(7);
    expect(verifySignedList(bytes, { ...trustA, installedVersion: 6 }).header.version).toBe(7);
    expect(verifySignedList(bytes, { ...trustA, installedVersion: null }).header.version).toBe(7);
  });
});

describe('verifySignedList refuses', () => {
  const good = encodeSignedList(snapshot, entries, authorityA.privateKey);
  const headerEnd = 8 + good.readUInt32BE(4);

  function flipped(offset: number): Buffer {
    const copy = Buffer.from(good);
    copy[offset]! ^= 0x01;
    return copy;
  }

  it('a list signed by a key it does not trust', () => {
    const err = listError(() => verifySignedList(good, { trustedKeys: [authorityB.publicKey], scope: 'site-a' }));
    expect(err.code).toBe('unknown-key');
    expect(err.message).toContain(keyId(authorityA.publicKey));
    expect(listError(() => verifySignedList(good, { trustedKeys: [], scope: 'site-a' })).code).toBe('unknown-key');
  });

  it('a list of another scope', () => {
    const err = listError(() => verifySignedList(good, { ...trustA, scope: 'site-b' }));
    expect(err.code).toBe('wrong-scope');
    expect(err.message).toBe('list is for scope "site-a", expected "site-b"');
  });

  it('a rollback to an older version', () => {
    const err = listError(() => verifySignedList(good, { ...trustA, installedVersion: 8 }));
    expect(err.code).toBe('rollback');
    expect(err.message).toBe('list "site-a" version 7 is older than installed version 8');
  });

  it('a rollback, with the installed version looked up by the list\'s scope', () => {
    const bytes = encodeSignedList(snapshot, entries, authorityA.privateKey);
    const installed = new Map([['site-a', 8], ['site-b', 1]]);
    const options = { ...trustA, scope: ['site-a', 'site-b'], installedVersion: (scope: string) => installed.get(scope) ?? null };
    expect(listError(() => verifySignedList(bytes, options)).code).toBe('rollback');
    installed.set('site-a', 7);
    expect(verifySignedList(bytes, options).header.version).toBe(7);
    installed.delete('site-a');
    expect(verifySignedList(bytes, options).header.version).toBe(7);
  });

  it('a flipped bit anywhere: magic, header, entries, key id, signature', () => {
    const cases: [string, number, string[]][] = [
      ['magic', 0, ['malformed']],
      ['header length', 7, ['malformed', 'bad-signature']],
      ['header', 20, ['bad-signature']],
      ['first entry ref', headerEnd + 3, ['bad-signature']],
      ['entry flags', headerEnd + 32, ['bad-signature']],
      ['entry time', good.length - 72 - 2, ['bad-signature']],
      ['key id', good.length - 70, ['unknown-key']],
      ['signature', good.length - 1, ['bad-signature']],
    ];
    for (const [where, offset, codes] of cases) {
      const err = listError(() => verifySignedList(flipped(offset), trustA));
      expect(codes, `${where}: got ${err.code}`).toContain(err.code);
    }
    // Exhaustively, every byte of this small list: no single flipped bit goes unnoticed.
    for (let offset = 0; offset < good.length; offset++) {
      for (const bit of [0x01, 0x80]) {
        const copy = Buffer.from(good);
        copy[offset]! ^= bit;
        expect(() => verifySignedList(copy, trustA), `byte ${offset}`).toThrow(ListError);
      }
    }
  });

  it('a forged key id pointing at another trusted key', () => {
    const forged = Buffer.from(good);
    Buffer.from(keyId(authorityB.publicKey), 'hex').copy(forged, forged.length - 72);
    const err = listError(() => verifySignedList(forged, { trustedKeys: [authorityA.publicKey, authorityB.publicKey], scope: 'site-a' }));
    expect(err.code).toBe('bad-signature');
    // The message names the key the file claims, so a technician can tell which authority's
    // file it was meant to be.
    expect(err.message).toBe(`list signature does not verify with key ${keyId(authorityB.publicKey)}: the file was altered or damaged`);
  });

  it('truncated files and garbage', () => {
    for (const bytes of [good.subarray(0, good.length - 1), good.subarray(0, 40), good.subarray(0, headerEnd), Buffer.alloc(0), Buffer.from('QGL1')]) {
      const err = listError(() => verifySignedList(bytes, trustA));
      expect(['malformed', 'unknown-key']).toContain(err.code);
    }
    expect(listError(() => verifySignedList(Buffer.from('{"format":1,"entries":[]}'.padEnd(200, ' ')), trustA)).code).toBe('malformed');
    const hugeHeader = Buffer.from(good);
    hugeHeader.writeUInt32BE(0xffffffff, 4);
    expect(listError(() => verifySignedList(hugeHeader, trustA)).code).toBe('malformed');
  });

  it('a count that does not match the entries, even when signed', () => {
    const twoEntries = Buffer.concat([entryBytes(1, 0), entryBytes(2, 1)]);
    expect(verifySignedList(signRaw({ ...rawHeader, count: 2 }, twoEntries), trustA).header.count).toBe(2);
    const tooMany = listError(() => verifySignedList(signRaw({ ...rawHeader, count: 3 }, twoEntries), trustA));
    expect(tooMany.code).toBe('malformed');
    expect(tooMany.message).toContain('header says 3 entries, the file holds 2');
    const tooFew = listError(() => verifySignedList(signRaw({ ...rawHeader, count: 1 }, twoEntries), trustA));
    expect(tooFew.message).toContain('bytes left over after 1 entries');
    const cut = listError(() => verifySignedList(signRaw({ ...rawHeader, count: 2 }, twoEntries.subarray(0, 50)), trustA));
    expect(cut.code).toBe('malformed');
    const timeMissing = listError(() => verifySignedList(signRaw({ ...rawHeader, count: 1 }, entryBytes(1, 0b0100, Buffer.alloc(2))), trustA));
    expect(timeMissing.message).toContain('runs past the entries');
  });

  it('a remove entry in a snapshot, unknown flags, a remove with a window', () => {
    const remove = listError(() => verifySignedList(signRaw({ ...rawHeader, count: 1 }, entryBytes(1, 3)), trustA));
    expect(remove.code).toBe('malformed');
    expect(remove.message).toContain('a snapshot cannot remove entries');
    const reserved = listError(() => verifySignedList(signRaw({ ...rawHeader, count: 1 }, entryBytes(1, 0x10)), trustA));
    expect(reserved.message).toContain('unknown flags');
    const delta = { ...rawHeader, kind: 'delta', version: 8, baseVersion: 7 };
    const removeWindow = listError(() => verifySignedList(signRaw({ ...delta, count: 1 }, entryBytes(1, 0b0111, Buffer.alloc(4))), trustA));
    expect(removeWindow.message).toContain('a remove entry has a validity window');
  });

  it('a signed header that is not a valid header', () => {
    const body = entryBytes(1, 0);
    const bad: object[] = [
      { ...rawHeader, count: 1, format: 3 },
      { ...rawHeader, count: 1, scope: 'Site A' },
      { ...rawHeader, count: 1, kind: 'delta' },
      { ...rawHeader, count: 1, baseVersion: 3 },
      { ...rawHeader, count: 1, expiresAt: '2024-12-31T00:00:00.000Z' },
      { ...rawHeader, count: 1, version: 1.5 },
      { ...rawHeader, count: 1, extra: true },
      { ...rawHeader },
    ];
    for (const header of bad) {
      const err = listError(() => verifySignedList(signRaw(header, body), trustA));
      expect(err.code).toBe('malformed');
      expect(err.message).toContain('bad header');
    }
    const notJson = Buffer.from('QGL1\u0000\u0000\u0000\u0003{x}');
    const signed = Buffer.concat([notJson, Buffer.from(keyId(authorityA.publicKey), 'hex'), sign(null, notJson, authorityA.privateKey)]);
    expect(listError(() => verifySignedList(signed, trustA)).message).toContain('header is not JSON');
  });
});

describe('encodeSignedList refuses', () => {
  it('remove entries in a snapshot', () => {
    expect(encodeError(() => encodeSignedList(snapshot, [{ ref: ref(1), status: 'remove' }], authorityA.privateKey)).code).toBe('invalid-entry');
  });

  it('bad entries, naming the entry', () => {
    const cases: [ListEntry, string][] = [
      [{ ref: Buffer.alloc(31), status: 'allow' }, 'ref must be a 32-byte Buffer'],
      [{ ref: ref(1), status: 'maybe' as 'allow' }, 'unknown status'],
      [{ ref: ref(1), status: 'allow', validFrom: 5000, validUntil: 5000 }, 'validFrom must be before validUntil'],
      [{ ref: ref(1), status: 'allow', validFrom: -1000 }, 'validFrom is outside 1970..2106'],
      [{ ref: ref(1), status: 'allow', validUntil: Number.NaN }, 'validUntil is not a time'],
      [{ ref: ref(1), status: 'remove', validUntil: 5000 }, 'a remove entry has no validity window'],
    ];
    for (const [entry, message] of cases) {
      const err = encodeError(() => encodeSignedList({ ...snapshot, kind: 'delta', baseVersion: 1 }, [{ ref: ref(0), status: 'allow' }, entry], authorityA.privateKey));
      expect(err.code).toBe('invalid-entry');
      expect(err.message.startsWith(`entry 2: ${message}`), err.message).toBe(true);
    }
  });

  it('bad headers', () => {
    const headers: ListHeaderInput[] = [
      { ...snapshot, scope: 'Site A' },
      { ...snapshot, kind: 'delta' },
      { ...snapshot, baseVersion: 2 },
      { ...snapshot, version: 0 },
      { ...snapshot, expiresAt: snapshot.issuedAt },
      { ...snapshot, issuedAt: 'yesterday' },
    ];
    for (const header of headers) {
      expect(encodeError(() => encodeSignedList(header, entries, authorityA.privateKey)).code).toBe('invalid-header');
    }
  });

  it('a key that is not an Ed25519 private key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(encodeError(() => encodeSignedList(snapshot, entries, rsa.privateKey)).code).toBe('invalid-key');
    expect(encodeError(() => encodeSignedList(snapshot, entries, authorityA.publicKey)).code).toBe('invalid-key');
  });
});

import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyId } from '../../../protocol/keys.js';
import { ListError, encodeSignedList, verifySignedList, type ListHeaderInput, type VerifyOptions } from '../../../protocol/lists/index.js';
import { maxHeaderBytes, prefixBytes, trailerBytes } from '../../../protocol/lists/format.js';
import { listFrame } from '../../../protocol/lists/verify.js';

/**
 * The edges of a list file's frame and the wording of each refusal: what a technician reads in
 * `lists.apply-failed` when a file is refused. Written for the mutants that survived
 * `npm run test:mutation -- lists` (docs/testing.md): the other list tests refuse the same
 * bytes, but through another rule.
 */

const authority = generateKeyPairSync('ed25519');
const trust = { trustedKeys: [authority.publicKey], scope: 'site-a' };
const snapshotInput: ListHeaderInput = { kind: 'snapshot', scope: 'site-a', version: 3, issuedAt: '2025-01-01T00:00:00.000Z', expiresAt: '2025-01-31T00:00:00.000Z' };
const header = { format: 1, ...snapshotInput };

function ref(n: number): Buffer {
  return createHash('sha256').update(`edge ${n}`).digest();
}

function entry(n: number, flags: number, extra: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([ref(n), Buffer.from([flags]), extra]);
}

function signRaw(json: Buffer, body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  const signed = Buffer.concat([Buffer.from('QGL1'), length, json, body]);
  return Buffer.concat([signed, Buffer.from(keyId(authority.publicKey), 'hex'), sign(null, signed, authority.privateKey)]);
}

function signed(fields: object, body: Buffer): Buffer {
  return signRaw(Buffer.from(JSON.stringify(fields)), body);
}

function refusal(bytes: Buffer, options: VerifyOptions = trust): ListError {
  try {
    verifySignedList(bytes, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ListError);
    return err as ListError;
  }
  return expect.fail('the list was accepted');
}

function prefix(headerLength: number): Buffer {
  const bytes = Buffer.alloc(prefixBytes);
  bytes.write('QGL1', 0, 'ascii');
  bytes.writeUInt32BE(headerLength, 4);
  return bytes;
}

describe('the frame of a list file', () => {
  it('takes a file of exactly its fixed parts, and refuses one byte less naming the size', () => {
    const smallest = prefixBytes + trailerBytes;
    expect(listFrame(prefix(0), smallest)).toEqual({ bodyStart: prefixBytes, bodyEnd: prefixBytes });
    expect(() => listFrame(prefix(0), smallest - 1)).toThrow(`malformed list: ${smallest - 1} bytes is too short to be a list`);
    // A prefix cut short (a file read that returned less) is refused the same way.
    expect(() => listFrame(prefix(0).subarray(0, prefixBytes - 1), smallest)).toThrow('is too short to be a list');
  });

  it('takes a header of the largest length allowed, and refuses one byte more even when the file is long enough', () => {
    const size = prefixBytes + maxHeaderBytes + 1 + trailerBytes;
    expect(listFrame(prefix(maxHeaderBytes), size)).toEqual({ bodyStart: prefixBytes + maxHeaderBytes, bodyEnd: size - trailerBytes });
    expect(() => listFrame(prefix(maxHeaderBytes + 1), size)).toThrow('malformed list: header length runs past the end of the file');
  });

  it('takes a header that ends where the entries end, and refuses one that runs a byte further', () => {
    const size = prefixBytes + 10 + trailerBytes;
    expect(listFrame(prefix(10), size)).toEqual({ bodyStart: prefixBytes + 10, bodyEnd: prefixBytes + 10 });
    expect(() => listFrame(prefix(11), size)).toThrow('header length runs past the end of the file');
  });

  it('refuses a file that is not a list by its magic', () => {
    const bytes = prefix(0);
    bytes.write('QGL2', 0, 'ascii');
    expect(() => listFrame(bytes, 200)).toThrow('not a qrgate list file (bad magic)');
  });
});

describe('what a refusal says', () => {
  it('numbers entries from 1, as a person counts them', () => {
    const two = (second: Buffer) => Buffer.concat([entry(1, 0), second]);
    expect(refusal(signed({ ...header, count: 2 }, two(entry(2, 0x20)))).message).toBe('malformed list: entry 2 has unknown flags for list format 1');
    expect(refusal(signed({ ...header, format: 2, count: 2 }, two(entry(2, 0x10)))).message).toBe('malformed list: entry 2: only a deny entry can be revoked');
    expect(refusal(signed({ ...header, count: 2 }, two(entry(2, 3)))).message).toBe('malformed list: entry 2: a snapshot cannot remove entries');
    const delta = { ...header, kind: 'delta', version: 4, baseVersion: 3 };
    expect(refusal(signed({ ...delta, count: 2 }, two(entry(2, 0b1011, Buffer.alloc(4))))).message).toBe(
      'malformed list: entry 2: a remove entry has a validity window',
    );
    expect(refusal(signed({ ...header, count: 1 }, entry(1, 0x40))).message).toBe('malformed list: entry 1 has unknown flags for list format 1');
  });

  it('names the count when entries run past the end or bytes are left over', () => {
    expect(refusal(signed({ ...header, count: 2 }, Buffer.concat([entry(1, 0), entry(2, 0b1000, Buffer.alloc(3))]))).message).toBe(
      'malformed list: entry 2 runs past the entries',
    );
    expect(refusal(signed({ ...header, count: 1 }, Buffer.concat([entry(1, 0), Buffer.alloc(5)]))).message).toBe(
      'malformed list: bytes left over after 1 entries',
    );
  });

  it('names each bad header field by its path, and the header itself when it is not an object', () => {
    const badScope = refusal(signed({ ...header, count: 0, scope: 'Site A' }, Buffer.alloc(0))).message;
    expect(badScope).toMatch(/^malformed list: bad header: scope: /);
    const notObject = refusal(signRaw(Buffer.from('42'), Buffer.alloc(0))).message;
    expect(notObject).toMatch(/^malformed list: bad header: header: /);
    const twoFields = refusal(signed({ ...header, count: -1, version: 'x' }, Buffer.alloc(0))).message;
    expect(twoFields).toContain('version: ');
    expect(twoFields).toContain('; count: ');
  });

  it('names every scope accepted when the list is for another', () => {
    const bytes = encodeSignedList(snapshotInput, [], authority.privateKey);
    expect(refusal(bytes, { ...trust, scope: ['site-b', 'site-c'] }).message).toBe('list is for scope "site-a", expected "site-b" or "site-c"');
  });
});

describe('the keys a terminal trusts', () => {
  it('must be Ed25519 public keys: a private key or another kind of key is a programming error, said plainly', () => {
    const bytes = encodeSignedList(snapshotInput, [], authority.privateKey);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const x25519 = generateKeyPairSync('x25519');
    for (const key of [rsa.publicKey, x25519.publicKey, authority.privateKey]) {
      expect(() => verifySignedList(bytes, { trustedKeys: [key], scope: 'site-a' })).toThrow(
        new TypeError('verifySignedList: trusted keys must be Ed25519 public keys'),
      );
    }
    // The check is not skipped for a key seen before: the same refused key twice is refused twice.
    expect(() => verifySignedList(bytes, { trustedKeys: [rsa.publicKey], scope: 'site-a' })).toThrow(TypeError);
  });
});

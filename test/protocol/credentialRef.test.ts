import { createHmac } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { createRefHasher, refToHex } from '../../protocol/credentialRef.js';

const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

describe('createRefHasher', () => {
  it('is HMAC-SHA-256(key, namespace:id), checked against a vector computed elsewhere', () => {
    const hash = createRefHasher(key);
    // Computed with Python's hmac module, key = bytes(range(32)).
    expect(refToHex(hash('citizen', '001099012345'))).toBe('f4bc2e14f6e5fec0e6c5bd65253392cdb50ed6b8d39320d17a8eb23abef0c830');
    expect(refToHex(hash('card', '0HDKM1XDBYPCAQMTSWJBBSE9AX'))).toBe('cc461938c391d63641f618b75e6d03f4cb91970e2623ec704d4c009c8147eb43');
  });

  it('agrees with node:crypto used directly, and returns 32-byte Buffers', () => {
    const hash = createRefHasher(key);
    const expected = createHmac('sha256', key).update('app:HUES-7F3A9C21').digest();
    const ref = hash('app', 'HUES-7F3A9C21');
    expect(Buffer.isBuffer(ref)).toBe(true);
    expect(ref.length).toBe(32);
    expect(ref.equals(expected)).toBe(true);
  });

  it('separates namespaces and keys', () => {
    const hash = createRefHasher(key);
    expect(hash('citizen', '191234567').equals(hash('app', '191234567'))).toBe(false);
    const otherKey = Buffer.alloc(32, 7);
    expect(createRefHasher(otherKey)('citizen', '191234567').equals(hash('citizen', '191234567'))).toBe(false);
  });

  it('is not affected by the caller changing its key buffer afterwards', () => {
    const mutable = Buffer.from(key);
    const hash = createRefHasher(mutable);
    const before = hash('citizen', '001099012345');
    mutable.fill(0);
    expect(hash('citizen', '001099012345').equals(before)).toBe(true);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createRefHasher(Buffer.alloc(16))).toThrow('ref key must be 32 bytes, got 16');
  });
});

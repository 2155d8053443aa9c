import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describe, it, expect } from 'vitest';
import { encodeSignedList, verifySignedList, type ListEntry } from '../../../protocol/lists/index.js';

const count = 1_000_000;

describe('a 1,000,000-entry list', () => {
  it('encodes, verifies and iterates', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const refs = randomBytes(32 * count);
    const validUntil = Date.parse('2026-01-01T00:00:00Z');
    function* generate(): Generator<ListEntry> {
      for (let i = 0; i < count; i++) {
        const ref = refs.subarray(i * 32, i * 32 + 32);
        // Every tenth entry has a window, like temporary contractors.
        yield i % 10 === 0 ? { ref, status: 'allow', validUntil } : { ref, status: i % 100 === 1 ? 'deny' : 'allow' };
      }
    }
    const header = {
      kind: 'snapshot' as const,
      scope: 'province-tth',
      version: 42,
      issuedAt: '2025-01-01T00:00:00.000Z',
      expiresAt: '2025-01-31T00:00:00.000Z',
    };

    const t0 = performance.now();
    const bytes = encodeSignedList(header, generate(), privateKey);
    const t1 = performance.now();
    const list = verifySignedList(bytes, { trustedKeys: [publicKey], scope: 'province-tth', installedVersion: 41 });
    const t2 = performance.now();
    let seen = 0;
    let denied = 0;
    let windows = 0;
    for (const entry of list.entries()) {
      if (seen % 99_991 === 0) expect(entry.ref.equals(refs.subarray(seen * 32, seen * 32 + 32))).toBe(true);
      if (entry.status === 'deny') denied++;
      if (entry.validUntil === validUntil) windows++;
      seen++;
    }
    const t3 = performance.now();

    expect(list.header.count).toBe(count);
    expect(seen).toBe(count);
    expect(denied).toBe(count / 100);
    expect(windows).toBe(count / 10);
    expect(bytes.length).toBeLessThan(34 * count + 4096);
    console.log(
      `1M-entry list: ${(bytes.length / 1e6).toFixed(1)} MB; encode+sign ${(t1 - t0).toFixed(0)} ms, ` +
        `verify ${(t2 - t1).toFixed(0)} ms, iterate ${(t3 - t2).toFixed(0)} ms`,
    );
  }, 120_000);
});

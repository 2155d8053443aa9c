import { generateKeyPairSync } from 'node:crypto';
import { propertyRuns } from '../../helpers/propertyRuns.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ListApplyError } from '../../../gateway/lists/applyResult.js';
import { openVouchedList } from '../../../gateway/lists/vouchedList.js';
import { encodeSignedList, ListError, sha256Hex, verifyManifest, verifySignedList, type ListEntry } from '../../../protocol/lists/index.js';
import { buildRelease, randomState } from '../../helpers/listReleases.js';
import { useTempDir } from '../../helpers/tempDir.js';

/**
 * Mutated bytes into the list and manifest parsers: every outcome is a clean refusal
 * (ListError, or ListApplyError for a hash) or, for bytes that still verify, a list whose
 * entries read to the end. Never a TypeError, a RangeError or a hang.
 */

const authority = generateKeyPairSync('ed25519');
const scope = 'site-a';
const RUNS = propertyRuns(300);

function entries(count: number): ListEntry[] {
  return Array.from({ length: count }, (_, n) => {
    const ref = Buffer.alloc(32, 0);
    ref.writeUInt32BE(n, 0);
    return { ref, status: n % 5 === 0 ? 'deny' : 'allow', ...(n % 3 === 0 ? { validFrom: 1_700_000_000_000 } : {}) };
  });
}

const now = Date.now();
const valid = encodeSignedList(
  { kind: 'snapshot', scope, version: 3, issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 86_400_000).toISOString() },
  entries(40),
  authority.privateKey,
);

/** A valid file with some bytes changed, cut short, or grown. */
const mutated = fc
  .record({
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 50 }),
  })
  .map(({ flips, cut, tail }) => {
    const bytes = Buffer.from(valid);
    for (const flip of flips) bytes[flip.at % bytes.length] = flip.value;
    const kept = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length);
    return Buffer.concat([kept, Buffer.from(tail)]);
  });

function expectCleanRefusal(err: unknown): void {
  expect(err instanceof ListError || err instanceof ListApplyError, String(err)).toBe(true);
  expect((err as Error).message.length).toBeGreaterThan(0);
}

describe('list and manifest parsers under mutated bytes (fast-check)', () => {
  const tempDir = useTempDir();

  it(`verifySignedList refuses every change cleanly (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(mutated, (bytes) => {
        try {
          const list = verifySignedList(bytes, { trustedKeys: [authority.publicKey], scope });
          expect(bytes.equals(valid)).toBe(true); // only an unchanged file verifies
          expect([...list.entries()]).toHaveLength(40);
        } catch (err) {
          expectCleanRefusal(err);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`a synced file whose hash the manifest vouches for is decoded or refused, never crashes (${RUNS} cases)`, () => {
    const dir = tempDir();
    let n = 0;
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a))), (bytes) => {
        const file = join(dir, `f${n++}`);
        writeFileSync(file, bytes);
        try {
          // The worst case: a manifest that names exactly these bytes.
          const list = openVouchedList(file, { sha256: sha256Hex(bytes), trustedKeys: [authority.publicKey], scopes: [scope], installedVersion: () => null });
          for (const entry of list.entries({ views: true })) expect(entry.ref).toHaveLength(32);
        } catch (err) {
          expectCleanRefusal(err);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`verifyManifest refuses every change cleanly (${RUNS} cases)`, () => {
    const { manifestPayload } = (() => {
      const release = buildRelease(authority.privateKey, scope, [randomState(50), randomState(50)]);
      const payload = [...release.retained].find(([topic]) => topic.endsWith('/manifest'))![1];
      return { manifestPayload: payload };
    })();
    fc.assert(
      fc.property(
        fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), cut: fc.option(fc.nat(), { nil: undefined }) }),
        ({ at, value, cut }) => {
          const bytes = Buffer.from(manifestPayload);
          bytes[at % bytes.length] = value;
          const payload = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length);
          try {
            verifyManifest(payload, { trustedKeys: [authority.publicKey], scope, installedVersion: null });
            expect(payload.equals(manifestPayload)).toBe(true);
          } catch (err) {
            expectCleanRefusal(err);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

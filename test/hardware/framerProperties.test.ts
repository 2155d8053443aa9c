import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Framer } from '../../hardware/scanners/framer.js';
import type { ScanFrame } from '../../hardware/scanners/scanner.js';

/**
 * The serial framer against any chunking of any stream (fast-check). The clock is frozen,
 * so the idle timeout never drops a partial: these properties are about bytes alone.
 */

const RUNS = 500;

/** Splits `bytes` at the given cut points (taken modulo the length), in order. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(from, point));
    from = point;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

function run(chunks: Buffer[], maxFrameBytes: number): ScanFrame[] {
  const frames: ScanFrame[] = [];
  const framer = new Framer({ suffix: '\r\n', maxFrameBytes, now: () => 1n }, { frame: (f) => frames.push(f), discarded: () => undefined });
  for (const chunk of chunks) framer.push(chunk);
  framer.reset();
  return frames;
}

/** Printable text a QR module would send (no control bytes), possibly with Vietnamese letters. */
const payload = fc.string({ unit: fc.constantFrom(...'0123456789|ABCXYZabcxyz-: ăêôơưđẠỹ'.split('')), minLength: 1, maxLength: 80 });

describe('Framer properties (fast-check)', () => {
  it(`delivers exactly the frames sent, however the stream is chunked (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.array(payload, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (texts, cuts) => {
        const stream = Buffer.from(texts.map((t) => `${t}\r\n`).join(''), 'utf8');
        const frames = run(chunked(stream, cuts), 1024);
        expect(frames.map((f) => f.text)).toEqual(texts);
        expect(frames.every((f) => f.problem === undefined && f.byteLength === Buffer.byteLength(f.text))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it(`never throws on random bytes, never delivers a frame over maxFrameBytes unflagged, flags what is not clean (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 12 }), fc.integer({ min: 16, max: 128 }), (bytes, cuts, max) => {
        const frames = run(chunked(Buffer.from(bytes), cuts), max);
        for (const frame of frames) {
          // The bound is on bytes received; a flagged frame's text may carry U+FFFD per bad byte.
          if (frame.problem === 'too-long') expect(frame.byteLength).toBeGreaterThan(max);
          else expect(frame.byteLength).toBeLessThanOrEqual(max);
          if (frame.problem === undefined) {
            expect(frame.text).not.toMatch(/[\u0000-\u001f]/);
            expect(Buffer.byteLength(frame.text)).toBe(frame.byteLength);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

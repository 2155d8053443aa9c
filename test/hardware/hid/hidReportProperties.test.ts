import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyboardReportDecoder, type DecodedFrame } from '../../../hardware/scanners/hid/keyboardReport.js';
import { PosReportDecoder } from '../../../hardware/scanners/hid/posReport.js';

/**
 * HID report decoders against random reports (fast-check): a scanner unplugged mid-scan,
 * another device with the same ids, or plain noise must never crash the driver, and
 * nothing it delivers may exceed the frame bound.
 */

const RUNS = 500;
const MAX = 64;
/** Reports of the lengths a decoder sees: mostly the right ones, some not. */
const report = fc.oneof(
  fc.uint8Array({ minLength: 8, maxLength: 8 }),
  fc.uint8Array({ minLength: 9, maxLength: 9 }),
  fc.uint8Array({ minLength: 64, maxLength: 64 }),
  fc.uint8Array({ maxLength: 70 }),
);

/**
 * The bound is on the bytes received: a flagged frame's text may hold U+FFFD for each bad
 * byte (3 bytes in UTF-8), but it is refused, never parsed, and never logged.
 */
function expectBounded(frame: DecodedFrame): void {
  if (frame.problem === 'too-long') {
    expect(frame.byteLength).toBeGreaterThan(MAX);
    return;
  }
  expect(frame.byteLength).toBeLessThanOrEqual(MAX);
  if (frame.problem === undefined) expect(Buffer.byteLength(frame.text)).toBe(frame.byteLength);
}

describe('HID report decoders under random reports (fast-check)', () => {
  it(`keyboard mode: never throws, frames stay within maxFrameBytes or are flagged too-long (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.array(report, { maxLength: 60 }), (reports) => {
        const decoder = new KeyboardReportDecoder({ maxFrameBytes: MAX });
        for (const r of reports) {
          for (const frame of decoder.push(r)) {
            expectBounded(frame);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`POS mode: never throws, frames stay within maxFrameBytes or are flagged too-long (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.array(report, { maxLength: 60 }), (reports) => {
        const decoder = new PosReportDecoder({ maxFrameBytes: MAX });
        for (const r of reports) {
          const frame = decoder.push(r);
          if (!frame) continue;
          expectBounded(frame);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

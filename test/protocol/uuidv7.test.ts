import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { uuidv7 } from '../../protocol/uuidv7.js';

const v7 = z.uuid({ version: 'v7' });

function timestampOf(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

// The generator is process-wide and monotonic, so each test works further in the future.
let base = Date.now() + 1_000_000;
function nextBase(): number {
  base += 10_000_000;
  return base;
}

describe('uuidv7', () => {
  it('produces 100k strictly increasing ids with the right version and variant', () => {
    const ids: string[] = [];
    for (let i = 0; i < 100_000; i++) ids.push(uuidv7());
    for (let i = 1; i < ids.length; i++) {
      if (!(ids[i - 1]! < ids[i]!)) expect.fail(`id ${i} does not sort after id ${i - 1}: ${ids[i - 1]} ${ids[i]}`);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 1000)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(v7.safeParse(id).success).toBe(true);
    }
  });

  it('encodes the given millisecond timestamp', () => {
    const ms = nextBase();
    const id = uuidv7(ms);
    expect(timestampOf(id)).toBe(ms);
    expect(v7.safeParse(id).success).toBe(true);
  });

  it('stays increasing when called many times in one millisecond, spilling into the next', () => {
    const ms = nextBase();
    const ids = Array.from({ length: 10_000 }, () => uuidv7(ms));
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true);
    // 10k ids cannot fit a 12-bit counter: later ones borrow the following milliseconds.
    expect(timestampOf(ids[0]!)).toBe(ms);
    expect(timestampOf(ids.at(-1)!)).toBeGreaterThan(ms);
    for (const id of ids) expect(v7.safeParse(id).success).toBe(true);
  });

  it('stays increasing when the clock goes back', () => {
    const ms = nextBase();
    const before = uuidv7(ms);
    const afterJump = uuidv7(ms - 60_000);
    const again = uuidv7(ms - 59_000);
    expect(afterJump > before).toBe(true);
    expect(again > afterJump).toBe(true);
    expect(timestampOf(afterJump)).toBe(ms);
  });

  it('refuses impossible timestamps', () => {
    expect(() => uuidv7(-1)).toThrow(RangeError);
    expect(() => uuidv7(Number.NaN)).toThrow(RangeError);
    expect(() => uuidv7(2 ** 48)).toThrow(RangeError);
  });
});

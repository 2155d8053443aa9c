import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeFrameBytes, Framer, type FramerOptions } from '../../hardware/scanners/framer.js';
import type { ScanFrame } from '../../hardware/scanners/scanner.js';

const setup = (options: Partial<FramerOptions> = {}) => {
  let now = 100n;
  const frames: ScanFrame[] = [];
  const discarded: number[] = [];
  const framer = new Framer(
    { suffix: '\r\n', now: () => now, ...options },
    { frame: (f) => frames.push(f), discarded: (n) => discarded.push(n) },
  );
  const push = (data: string | number[], atNs?: bigint): void => {
    if (atNs !== undefined) now = atNs;
    framer.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  };
  return { framer, frames, discarded, push, setNow: (ns: bigint) => (now = ns) };
};

describe('Framer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('frames on CRLF split across chunks, stamped with the chunk that completed the frame', () => {
    const { frames, push } = setup();
    push('046090', 1n);
    push('001234\r', 2n);
    expect(frames).toHaveLength(0);
    push('\nNEXT\r\n', 3n);
    expect(frames).toEqual([
      { text: '046090001234', byteLength: 12, source: 'scanner', lastByteAtNs: 3n },
      { text: 'NEXT', byteLength: 4, source: 'scanner', lastByteAtNs: 3n },
    ]);
  });

  it('ignores empty frames (a bare suffix) and skips line-end bytes at a frame start', () => {
    const { frames, push } = setup({ suffix: '\r' });
    push('\r\r\n\nA\r\nB\r'); // a CRLF module on a CR setting still frames cleanly
    expect(frames.map((f) => f.text)).toEqual(['A', 'B']);
  });

  it('takes an LF-only module on a CRLF setting', () => {
    const { frames, push } = setup({ suffix: '\r\n' });
    push('A\nB\n');
    expect(frames.map((f) => f.text)).toEqual(['A', 'B']);
  });

  it('flags a CR inside a frame on an LF setting, and NUL/STX anywhere, as control-bytes', () => {
    const { frames, push } = setup({ suffix: '\n' });
    push('A\rB\n\x02ID\x03\nOK\r\n');
    expect(frames.map((f) => [f.text, f.problem])).toEqual([
      ['A\rB', 'control-bytes'],
      ['\x02ID\x03', 'control-bytes'],
      ['OK', undefined],
    ]);
  });

  it('flags invalid UTF-8 (a truncated sequence, an overlong form) with the lossy text', () => {
    const { frames, push } = setup();
    push([0x41, 0xe1, 0xbb, 0x0d, 0x0a, 0xc0, 0xaf, 0x0d, 0x0a]);
    expect(frames.map((f) => f.problem)).toEqual(['invalid-utf8', 'invalid-utf8']);
    expect(frames[0]!.text.startsWith('A')).toBe(true);
  });

  it('keeps a frame of exactly maxFrameBytes, flags one byte more as too-long', () => {
    const { frames, push } = setup({ maxFrameBytes: 8 });
    push('12345678\r\n123456789\r\n');
    expect(frames.map((f) => [f.byteLength, f.problem])).toEqual([
      [8, undefined],
      [9, 'too-long'],
    ]);
  });

  it('discards an over-long frame up to the next suffix without growing, and frames the next one', () => {
    const { framer, frames, push } = setup({ maxFrameBytes: 16 });
    for (let i = 0; i < 1000; i++) push('x'.repeat(100));
    push('\r\nOK\r\n');
    expect(frames).toEqual([
      { text: '', byteLength: 100_000, source: 'scanner', lastByteAtNs: 100n, problem: 'too-long' },
      { text: 'OK', byteLength: 2, source: 'scanner', lastByteAtNs: 100n },
    ]);
    expect(framer.maxFrameBytes).toBe(16);
  });

  it('drops and counts a partial frame idle for interByteTimeoutMs (a suffix is configured)', () => {
    vi.useFakeTimers();
    const { framer, frames, discarded, push } = setup({ interByteTimeoutMs: 50, now: undefined });
    push('GARB');
    vi.advanceTimersByTime(30);
    push('AGE'); // the timer restarts on every chunk
    vi.advanceTimersByTime(49);
    expect(discarded).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(discarded).toEqual([7]);
    expect(framer.discardedFrames).toBe(1);
    push('ID\r\n');
    expect(frames.map((f) => f.text)).toEqual(['ID']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends a frame after the idle gap with suffix "", stamped with its last chunk, trailing CR/LF removed', () => {
    vi.useFakeTimers();
    const { frames, push, setNow } = setup({ suffix: '', interByteTimeoutMs: 50 });
    push('0460', 10n);
    vi.advanceTimersByTime(20);
    push('90001234\r\n', 20n);
    setNow(999n);
    vi.advanceTimersByTime(49);
    expect(frames).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(frames).toEqual([{ text: '046090001234', byteLength: 12, source: 'scanner', lastByteAtNs: 20n }]);
  });

  it('gives a frame one more timeout when its timer fired late (our own event loop was blocked)', () => {
    vi.useFakeTimers();
    let now = 0n;
    const frames: ScanFrame[] = [];
    const discarded: number[] = [];
    const framer = new Framer({ suffix: '\r\n', interByteTimeoutMs: 50, now: () => now }, { frame: (f) => frames.push(f), discarded: (n) => discarded.push(n) });
    framer.push(Buffer.from('046090'));
    now = 200_000_000n; // the timer runs 150 ms late: a stall, not an idle line
    vi.advanceTimersByTime(50);
    expect(discarded).toEqual([]);
    framer.push(Buffer.from('001234\r\n')); // the rest was waiting in the OS buffer
    expect(frames.map((f) => f.text)).toEqual(['046090001234']);
    // An on-time timer after the re-arm does drop.
    framer.push(Buffer.from('PART'));
    vi.advanceTimersByTime(50);
    expect(discarded).toEqual([4]);
  });

  it('never times out with interByteTimeoutMs 0 (stdin)', () => {
    vi.useFakeTimers();
    const { frames, discarded, push } = setup({ suffix: '\n', interByteTimeoutMs: 0, source: 'keyboard' });
    push('0460900');
    vi.advanceTimersByTime(60_000);
    push('01234\n');
    expect(discarded).toEqual([]);
    expect(frames).toEqual([{ text: '046090001234', byteLength: 12, source: 'keyboard', lastByteAtNs: 100n }]);
  });

  it('reset() forgets the partial frame and clears its timer', () => {
    vi.useFakeTimers();
    const { framer, frames, push } = setup();
    push('HALF');
    framer.reset();
    expect(vi.getTimerCount()).toBe(0);
    push('WHOLE\r\n');
    expect(frames.map((f) => f.text)).toEqual(['WHOLE']);
  });

  it('uses process.hrtime.bigint by default', () => {
    const frames: ScanFrame[] = [];
    const framer = new Framer({ suffix: '\n' }, { frame: (f) => frames.push(f) });
    const before = process.hrtime.bigint();
    framer.push(Buffer.from('A\n'));
    expect(frames[0]!.lastByteAtNs).toBeGreaterThanOrEqual(before);
  });
});

describe('decodeFrameBytes', () => {
  it('decodes clean UTF-8 with no problem', () => {
    expect(decodeFrameBytes(Buffer.from('Thừa Thiên Huế'))).toEqual({ text: 'Thừa Thiên Huế' });
  });
});

import type { FrameProblem, FrameSource, ScanFrame } from './scanner.js';

/** What a scanner module appends to each scan. `''`: none, a frame ends after an idle gap. */
export type FrameSuffix = '\r' | '\n' | '\r\n' | '';

export interface FramerOptions {
  readonly suffix: FrameSuffix;
  /** Longest accepted frame in bytes, suffix excluded. Longer frames are flagged `too-long`. Default 1024. */
  readonly maxFrameBytes?: number;
  /**
   * Idle gap in milliseconds. With suffix `''` a frame ends after this gap. With a suffix, a
   * partial frame idle this long is dropped and counted (see `Framer`); 0 disables that
   * (stdin, where a person types slowly). Default 50.
   */
  readonly interByteTimeoutMs?: number;
  /** Default `'scanner'`. */
  readonly source?: FrameSource;
  /** Monotonic clock in nanoseconds. Default `process.hrtime.bigint` (faked by vitest's fake timers). */
  readonly now?: () => bigint;
}

export interface FramerSink {
  frame(frame: ScanFrame): void;
  /** A partial frame was dropped after the idle timeout. */
  discarded?(byteLength: number): void;
}

const CR = 0x0d;
const LF = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');

/** Turns a frame's bytes into text and says what is wrong with them, if anything. */
export function decodeFrameBytes(bytes: Uint8Array): { text: string; problem?: FrameProblem } {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { text: utf8Lossy.decode(bytes), problem: 'invalid-utf8' };
  }
  // Any C0 control (NUL, STX/ETX framing, a stray CR/LF/TAB) inside the payload.
  return bytes.some((b) => b < 0x20) ? { text, problem: 'control-bytes' } : { text };
}

/**
 * Splits a byte stream into frames, in the manner of serialport's parsers but bounded: it
 * holds at most `maxFrameBytes + 1` bytes whatever arrives. Chunks may be split anywhere.
 *
 * - A frame ends at the suffix's last byte (CR for `'\r'`, LF otherwise); a CR right before
 *   an LF terminator is stripped, so `'\r\n'` split across chunks works, and so does a
 *   module sending only LF. CR/LF bytes at the start of a frame are skipped, so a module
 *   sending CRLF works with suffix `'\r'`: a wrong suffix setting must not refuse every scan.
 * - Over `maxFrameBytes`: the bytes are discarded up to the next terminator and one frame
 *   with problem `too-long` (text `''`, the full `byteLength`) is delivered.
 * - Partial frames, when a suffix is configured: a real module always sends the suffix in
 *   one burst, so a partial idle for `interByteTimeoutMs` is a glitch (a module reset
 *   mid-frame, noise at power-up, a cable plugged in mid-scan). It is dropped and counted
 *   (`discardedFrames`, `sink.discarded`), never delivered: delivering it would flash red
 *   at nobody, and keeping it would glue it to the next person's scan.
 * - If our own event loop stalled (a slow SQLite commit), the timer fires late and the
 *   rest of the frame may already be waiting in the OS buffer; a late timer re-arms once
 *   instead of cutting the frame.
 * - Empty frames (a bare suffix) are ignored.
 */
export class Framer {
  private readonly buffer: Buffer;
  private length = 0;
  /** Bytes of the current frame beyond the buffer (a too-long frame). */
  private overflowBytes = 0;
  private lastOverflowByte = 0;
  private lastChunkAtNs = 0n;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDueNs = 0n;
  private discarded = 0;

  constructor(
    private readonly options: FramerOptions,
    private readonly sink: FramerSink,
  ) {
    this.buffer = Buffer.allocUnsafe(this.maxFrameBytes + 1);
  }

  get maxFrameBytes(): number {
    return this.options.maxFrameBytes ?? 1024;
  }

  private now(): bigint {
    return this.options.now ? this.options.now() : process.hrtime.bigint();
  }

  private get timeoutMs(): number {
    return this.options.interByteTimeoutMs ?? 50;
  }

  /** Partial frames dropped after the idle timeout since construction. */
  get discardedFrames(): number {
    return this.discarded;
  }

  push(chunk: Uint8Array): void {
    const now = this.now();
    this.lastChunkAtNs = now;
    const terminator = this.options.suffix === '' ? -1 : this.options.suffix === '\r' ? CR : LF;
    for (const byte of chunk) {
      if (byte === terminator) {
        this.endFrame(now);
      } else if ((byte === CR || byte === LF) && this.length === 0 && this.overflowBytes === 0) {
        continue;
      } else if (this.length < this.buffer.length) {
        this.buffer[this.length++] = byte;
      } else {
        this.overflowBytes++;
        this.lastOverflowByte = byte;
      }
    }
    this.armTimer(now);
  }

  /** Forgets any partial frame and clears the timer (device gone, driver stopped). */
  reset(): void {
    this.clearTimer();
    this.length = 0;
    this.overflowBytes = 0;
  }

  private isLineEnd(byte: number | undefined): boolean {
    return byte === CR || (this.options.suffix === '' && byte === LF);
  }

  private endFrame(atNs: bigint): void {
    let length = this.length;
    let overflow = this.overflowBytes;
    // A CR before the LF terminator (or CR/LF before an idle gap) belongs to the suffix.
    if (overflow > 0) {
      if (this.isLineEnd(this.lastOverflowByte)) overflow--;
    } else {
      while (length > 0 && this.isLineEnd(this.buffer[length - 1])) length--;
    }
    const byteLength = length + overflow;
    const tooLong = byteLength > this.maxFrameBytes;
    this.length = 0;
    this.overflowBytes = 0;
    if (byteLength === 0) return;
    const source = this.options.source ?? 'scanner';
    if (tooLong) {
      this.sink.frame({ text: '', byteLength, source, lastByteAtNs: atNs, problem: 'too-long' });
      return;
    }
    const { text, problem } = decodeFrameBytes(this.buffer.subarray(0, length));
    this.sink.frame(problem ? { text, byteLength, source, lastByteAtNs: atNs, problem } : { text, byteLength, source, lastByteAtNs: atNs });
  }

  private armTimer(now: bigint): void {
    this.clearTimer();
    if ((this.length === 0 && this.overflowBytes === 0) || this.timeoutMs <= 0) return;
    this.timerDueNs = now + BigInt(Math.round(this.timeoutMs * 1000)) * 1000n;
    this.timer = setTimeout(() => this.onIdle(false), this.timeoutMs);
  }

  private onIdle(rearmed: boolean): void {
    this.timer = null;
    const now = this.now();
    const lateNs = now - this.timerDueNs;
    const toleranceNs = BigInt(Math.max(5, Math.round(this.timeoutMs / 5))) * 1_000_000n;
    if (!rearmed && lateNs > toleranceNs) {
      // Our loop was blocked: let pending reads run before judging the gap.
      this.timer = setTimeout(() => this.onIdle(true), this.timeoutMs);
      return;
    }
    if (this.options.suffix === '') {
      this.endFrame(this.lastChunkAtNs);
      return;
    }
    const byteLength = this.length + this.overflowBytes;
    this.length = 0;
    this.overflowBytes = 0;
    this.discarded++;
    this.sink.discarded?.(byteLength);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

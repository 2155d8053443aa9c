import { afterEach, describe, expect, it } from 'vitest';
import type { ScanFrame, Scanner } from '../../hardware/scanners/scanner.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * The scanner contract (STYLE.md habit 3): one suite, run against every driver — sim,
 * serial over serialport's mock binding, serial over a real pty pair, HID over a fake
 * device. A driver passes when a person's scan arrives as exactly one intact frame however
 * the transport cut it, an over-long scan is flagged without spoiling the next one, and
 * the lifecycle is safe to repeat.
 */

export interface HarnessOptions {
  /** Small, so over-long frames are quick to send. */
  readonly maxFrameBytes: number;
}

export interface ScannerHarness {
  readonly scanner: Scanner;
  /**
   * Sends one scan: `payload` and the device's end-of-scan marker, cut at the given byte
   * offsets of `payload` + marker where the transport allows it (a byte stream, HID-POS
   * reports; a keyboard wedge sends a report per key whatever the cuts).
   */
  sendScan(payload: Buffer, cuts?: readonly number[]): Promise<void>;
  /** Byte-stream transports only: raw pieces exactly as given (suffix included by the caller). */
  readonly sendRaw?: (pieces: readonly Buffer[]) => Promise<void>;
  dispose(): Promise<void>;
}

export const CCCD_SAMPLE = '046090001234|123456789|Nguyễn Thị Hương|01011990|Nữ|Thôn Phú Mỹ, Xã Thủy Bằng, Thành phố Huế|15082021';

/** Deterministic pseudo-random cut points (a tiny LCG: the same cuts on every run). */
export function randomCuts(length: number, count: number, seed: number): number[] {
  let state = seed;
  const cuts = new Set<number>();
  while (cuts.size < Math.min(count, length - 1)) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    cuts.add(1 + (state % (length - 1)));
  }
  return [...cuts].sort((a, b) => a - b);
}

export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length];
  const pieces: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) if (bounds[i + 1]! > bounds[i]!) pieces.push(bytes.subarray(bounds[i], bounds[i + 1]));
  return pieces;
}

function collect(scanner: Scanner): ScanFrame[] {
  const frames: ScanFrame[] = [];
  scanner.on('frame', (frame) => frames.push(frame));
  return frames;
}

const FRAME_TIMEOUT_MS = 15_000;

export interface ContractOptions {
  /** The transport is a byte stream with `sendRaw` (serial, sim): the byte-level cases run too. */
  readonly byteStream: boolean;
}

export function scannerContract(
  name: string,
  makeHarness: (options: HarnessOptions) => Promise<ScannerHarness>,
  contract: ContractOptions,
): void {
  describe(`scanner contract: ${name}`, () => {
    const maxFrameBytes = 256;
    let harness: ScannerHarness | null = null;

    afterEach(async () => {
      await harness?.scanner.stop();
      await harness?.dispose();
      harness = null;
    });

    const started = async (): Promise<{ h: ScannerHarness; frames: ScanFrame[] }> => {
      harness = await makeHarness({ maxFrameBytes });
      const frames = collect(harness.scanner);
      await harness.scanner.start();
      await waitFor(() => harness!.scanner.connected, FRAME_TIMEOUT_MS, 'the scanner to connect');
      return { h: harness, frames };
    };

    it('delivers a scan as one frame with its text, byte length, source and time', async () => {
      const { h, frames } = await started();
      const before = process.hrtime.bigint();
      await h.sendScan(Buffer.from('QRG1-ABC|123', 'utf8'));
      await waitFor(() => frames.length >= 1, FRAME_TIMEOUT_MS, 'a frame');
      const frame = frames[0]!;
      expect(frame.text).toBe('QRG1-ABC|123');
      expect(frame.byteLength).toBe(12);
      expect(frame.source).toBe('scanner');
      expect(frame.problem).toBeUndefined();
      expect(frame.lastByteAtNs).toBeGreaterThanOrEqual(before);
      expect(frame.lastByteAtNs).toBeLessThanOrEqual(process.hrtime.bigint());
    });

    it('reassembles a scan cut into pieces anywhere', async () => {
      const { h, frames } = await started();
      const payload = Buffer.from('046090001234|NGUYEN VAN AN|01011990', 'utf8');
      const total = payload.length + 2;
      const cuttings = [
        Array.from({ length: total - 1 }, (_, i) => i + 1), // a byte at a time
        randomCuts(total, 5, 7),
        randomCuts(total, 12, 99),
        [payload.length], // the whole payload, then the suffix alone
      ];
      for (const cuts of cuttings) await h.sendScan(payload, cuts);
      await waitFor(() => frames.length >= cuttings.length, FRAME_TIMEOUT_MS, `${cuttings.length} frames`);
      // Give a stray extra (empty or split) frame the chance to show up before counting.
      await h.sendScan(Buffer.from('END', 'utf8'));
      await waitFor(() => frames.at(-1)?.text === 'END', FRAME_TIMEOUT_MS, 'the END frame');
      expect(frames.map((f) => f.text)).toEqual([...cuttings.map(() => payload.toString('utf8')), 'END']);
      expect(frames.every((f) => f.problem === undefined)).toBe(true);
    });

    it('keeps UTF-8 Vietnamese text intact when a character is cut in two', async () => {
      const { h, frames } = await started();
      const payload = Buffer.from(CCCD_SAMPLE, 'utf8');
      // Cut inside every multi-byte character: after each lead byte.
      const cuts = [...payload.keys()].filter((i) => payload[i]! >= 0xc0).map((i) => i + 1);
      await h.sendScan(payload, cuts);
      await waitFor(() => frames.length >= 1, FRAME_TIMEOUT_MS, 'a frame');
      expect(frames[0]!.text).toBe(CCCD_SAMPLE);
      expect(frames[0]!.byteLength).toBe(payload.length);
      expect(frames[0]!.problem).toBeUndefined();
      expect(frames[0]!.text.split('|')[0]).toBe('046090001234');
    });

    it('flags an over-long scan as too-long and reads the next scan cleanly', async () => {
      const { h, frames } = await started();
      const long = Buffer.from('9'.repeat(maxFrameBytes + 40), 'utf8');
      await h.sendScan(long, randomCuts(long.length + 2, 6, 3));
      await h.sendScan(Buffer.from('046090001234', 'utf8'));
      await waitFor(() => frames.length >= 2, FRAME_TIMEOUT_MS, 'two frames');
      expect(frames[0]!.problem).toBe('too-long');
      expect(frames[0]!.byteLength).toBe(long.length);
      expect(frames[1]).toMatchObject({ text: '046090001234', byteLength: 12 });
      expect(frames[1]!.problem).toBeUndefined();
      expect(frames).toHaveLength(2);
    });

    it('is safe to start and stop twice, and reads again after a restart', async () => {
      harness = await makeHarness({ maxFrameBytes });
      const h = harness;
      const frames = collect(h.scanner);
      const events: string[] = [];
      h.scanner.on('connected', () => events.push('connected'));
      await Promise.all([h.scanner.start(), h.scanner.start()]);
      await h.scanner.start();
      await waitFor(() => h.scanner.connected, FRAME_TIMEOUT_MS, 'the scanner to connect');
      await h.scanner.stop();
      await h.scanner.stop();
      expect(h.scanner.connected).toBe(false);
      await h.scanner.start();
      await waitFor(() => h.scanner.connected, FRAME_TIMEOUT_MS, 'the scanner to reconnect');
      await h.sendScan(Buffer.from('AGAIN-1', 'utf8'));
      await waitFor(() => frames.length >= 1, FRAME_TIMEOUT_MS, 'a frame after the restart');
      expect(frames.map((f) => f.text)).toEqual(['AGAIN-1']);
      expect(events).toEqual(['connected', 'connected']);
    });

    it('reads scans sent back to back as separate frames', async () => {
      const { h, frames } = await started();
      for (const id of ['A-1', 'B-2', 'C-3']) await h.sendScan(Buffer.from(id, 'utf8'));
      await waitFor(() => frames.length >= 3, FRAME_TIMEOUT_MS, 'three frames');
      expect(frames.map((f) => f.text)).toEqual(['A-1', 'B-2', 'C-3']);
    });

    const raw = (h: ScannerHarness): NonNullable<ScannerHarness['sendRaw']> => {
      if (!h.sendRaw) throw new Error(`${name} declares a byte stream but its harness has no sendRaw`);
      return h.sendRaw;
    };

    if (contract.byteStream) describe('byte streams', () => {
      it('makes one frame of a CRLF split across chunks, and no empty frame', async () => {
        const { h, frames } = await started();
        await raw(h)([Buffer.from('046090001234\r'), Buffer.from('\n'), Buffer.from('\r\n'), Buffer.from('NEXT\r\n')]);
        await waitFor(() => frames.length >= 2, FRAME_TIMEOUT_MS, 'two frames');
        expect(frames.map((f) => f.text)).toEqual(['046090001234', 'NEXT']);
      });

      it('splits several scans arriving in one chunk', async () => {
        const { h, frames } = await started();
        await raw(h)([Buffer.from('A-1\r\nB-2\r\nC-', 'utf8'), Buffer.from('3\r\n', 'utf8')]);
        await waitFor(() => frames.length >= 3, FRAME_TIMEOUT_MS, 'three frames');
        expect(frames.map((f) => f.text)).toEqual(['A-1', 'B-2', 'C-3']);
      });

      it('flags NUL and invalid UTF-8 inside a frame, and keeps going', async () => {
        const { h, frames } = await started();
        await raw(h)([Buffer.from('0460\x0090001234\r\n', 'latin1'), Buffer.from([0x41, 0xc3, 0x28, 0x0d, 0x0a]), Buffer.from('OK\r\n')]);
        await waitFor(() => frames.length >= 3, FRAME_TIMEOUT_MS, 'three frames');
        expect(frames.map((f) => f.problem)).toEqual(['control-bytes', 'invalid-utf8', undefined]);
        expect(frames[2]!.text).toBe('OK');
      });
    });
  });
}

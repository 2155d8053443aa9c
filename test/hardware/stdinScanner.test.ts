import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { ScanFrame } from '../../hardware/scanners/scanner.js';
import { StdinScanner } from '../../hardware/scanners/stdinScanner.js';
import { silentLogger } from '../fakes/captureLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const make = () => {
  const input = new PassThrough();
  const scanner = new StdinScanner({ maxFrameBytes: 64 }, { logger: silentLogger(), input });
  const frames: ScanFrame[] = [];
  const events: string[] = [];
  scanner.on('frame', (f) => frames.push(f));
  scanner.on('connected', () => events.push('connected'));
  scanner.on('disconnected', (reason) => events.push(`disconnected: ${reason}`));
  return { input, scanner, frames, events };
};

describe('StdinScanner', () => {
  it('turns typed lines into keyboard frames (LF or CRLF), however the input is chunked', async () => {
    const { input, scanner, frames } = make();
    await scanner.start();
    input.write('0460900');
    input.write('01234\r\n0791');
    input.write('23456789\n\n');
    await waitFor(() => frames.length === 2, 5000, 'two frames');
    expect(frames.map((f) => [f.text, f.source])).toEqual([
      ['046090001234', 'keyboard'],
      ['079123456789', 'keyboard'],
    ]);
    await scanner.stop();
  });

  it('waits for a slow typist: no idle timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { input, scanner, frames } = make();
      await scanner.start();
      input.write('0460');
      await nextTurn();
      expect(vi.getTimerCount()).toBe(0); // nothing is waiting to cut the line
      vi.advanceTimersByTime(60_000);
      input.write('90001234\n');
      await nextTurn();
      expect(frames.map((f) => f.text)).toEqual(['046090001234']);
      await scanner.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports the end of input as disconnected', async () => {
    const { input, scanner, events } = make();
    await scanner.start();
    input.end();
    await waitFor(() => events.length === 2, 5000, 'the disconnected event');
    expect(events).toEqual(['connected', 'disconnected: end of input']);
    await scanner.stop();
  });

  it('is safe to start and stop twice and stops listening to the stream', async () => {
    const { input, scanner, frames } = make();
    await scanner.start();
    await scanner.start();
    expect(input.listenerCount('data')).toBe(1);
    await scanner.stop();
    await scanner.stop();
    expect(input.listenerCount('data')).toBe(0);
    input.write('LATE\n');
    expect(frames).toHaveLength(0);
    expect(scanner.connected).toBe(false);
  });
});

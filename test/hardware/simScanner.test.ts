import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScanFrame } from '../../hardware/scanners/scanner.js';
import { SimScanner } from '../../hardware/scanners/simScanner.js';
import { captureLogger, silentLogger } from '../fakes/captureLogger.js';
import { scannerContract, splitAt } from './scannerContract.js';

scannerContract(
  'sim',
  async ({ maxFrameBytes }) => {
    const scanner = new SimScanner({ suffix: '\r\n', maxFrameBytes, interByteTimeoutMs: 1000 }, { logger: silentLogger() });
    const sendRaw = async (pieces: readonly Buffer[]): Promise<void> => {
      for (const piece of pieces) await scanner.injectBytes(piece, { chunkBytes: piece.length });
    };
    return {
      scanner,
      sendRaw,
      sendScan: (payload, cuts = []) => sendRaw(splitAt(Buffer.concat([payload, Buffer.from('\r\n')]), cuts)),
      dispose: async () => {},
    };
  },
  { byteStream: true },
);

describe('SimScanner', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const started = async (options: ConstructorParameters<typeof SimScanner>[0] = {}) => {
    const log = captureLogger();
    const scanner = new SimScanner(options, { logger: log.logger });
    const frames: ScanFrame[] = [];
    const events: string[] = [];
    scanner.on('frame', (f) => frames.push(f));
    scanner.on('connected', () => events.push('connected'));
    scanner.on('disconnected', (reason) => events.push(`disconnected: ${reason}`));
    await scanner.start();
    return { scanner, frames, events, log };
  };

  it('delivers an injected scan asynchronously, in chunks, with the default CRLF suffix', async () => {
    const { scanner, frames } = await started();
    const pending = scanner.inject('x'.repeat(100));
    expect(frames).toHaveLength(0); // nothing arrives in the same turn
    await pending;
    expect(frames.map((f) => f.text)).toEqual(['x'.repeat(100)]);
    await scanner.stop();
  });

  it('honours chunkBytes and a per-scan suffix override', async () => {
    const { scanner, frames } = await started({ suffix: '\r' });
    await scanner.inject('046090001234', { chunkBytes: 1 });
    await scanner.inject('NEXT', { suffix: '\r\n', chunkBytes: 3 });
    expect(frames.map((f) => f.text)).toEqual(['046090001234', 'NEXT']);
    await scanner.stop();
  });

  it('unplug() and plug() report disconnected/connected, and bytes sent while unplugged are lost', async () => {
    const { scanner, frames, events } = await started();
    scanner.unplug();
    expect(scanner.connected).toBe(false);
    await scanner.inject('LOST-1');
    scanner.plug();
    expect(scanner.connected).toBe(true);
    await scanner.inject('KEPT-2');
    expect(frames.map((f) => f.text)).toEqual(['KEPT-2']);
    expect(events).toEqual(['connected', 'disconnected: unplugged', 'connected']);
    await scanner.stop();
  });

  it('forgets a half-sent scan when unplugged, so it is not glued to the next one', async () => {
    const { scanner, frames } = await started();
    await scanner.injectBytes(Buffer.from('HALF-'));
    scanner.unplug();
    scanner.plug();
    await scanner.inject('WHOLE');
    expect(frames.map((f) => f.text)).toEqual(['WHOLE']);
    await scanner.stop();
  });

  it('honours once() listeners and isolates a connected listener that throws', async () => {
    const log = captureLogger();
    const scanner = new SimScanner({}, { logger: log.logger });
    const once: string[] = [];
    scanner.once('frame', (f) => once.push(f.text));
    scanner.on('connected', () => {
      throw new Error('listener bug');
    });
    let connected = 0;
    scanner.on('connected', () => connected++);
    await scanner.start();
    await scanner.inject('FIRST');
    await scanner.inject('SECOND');
    expect(once).toEqual(['FIRST']);
    expect(connected).toBe(1);
    expect(log.messages('scanner.listener-failed')).toHaveLength(1);
    await scanner.stop();
  });

  it('drops injected bytes when not started', async () => {
    const scanner = new SimScanner({}, { logger: silentLogger() });
    const frames: ScanFrame[] = [];
    scanner.on('frame', (f) => frames.push(f));
    await scanner.inject('NOBODY');
    expect(frames).toHaveLength(0);
    expect(scanner.connected).toBe(false);
  });

  it('drops a partial frame after the inter-byte timeout and logs it (fake timers)', async () => {
    vi.useFakeTimers();
    const { scanner, frames, log } = await started({ interByteTimeoutMs: 50 });
    const sending = scanner.injectBytes(Buffer.from('GLITCH'));
    await vi.advanceTimersByTimeAsync(1);
    await sending;
    await vi.advanceTimersByTimeAsync(60);
    expect(log.messages('scanner.partial-dropped')).toHaveLength(1);
    const next = scanner.inject('CLEAN');
    await vi.advanceTimersByTimeAsync(1);
    await next;
    expect(frames.map((f) => f.text)).toEqual(['CLEAN']);
    await scanner.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});

import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScanFrame } from '../../hardware/scanners/scanner.js';
import { SerialScanner, type SerialScannerOptions } from '../../hardware/scanners/serialScanner.js';
import { captureLogger, silentLogger } from '../fakes/captureLogger.js';
import { recordingMockBinding, unplugMockPort } from '../fakes/mockSerial.js';
import { waitFor } from '../helpers/waitFor.js';
import { scannerContract, splitAt } from './scannerContract.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
let portNumber = 0;

scannerContract(
  'serial over SerialPortMock',
  async ({ maxFrameBytes }) => {
    const path = `/dev/ttyMOCK${portNumber++}`;
    SerialPortMock.binding.createPort(path);
    const mock = recordingMockBinding();
    const scanner = new SerialScanner(
      { path, suffix: '\r\n', maxFrameBytes, interByteTimeoutMs: 1000, reopenDelayMs: 20 },
      { logger: silentLogger(), binding: mock.binding },
    );
    const sendRaw = async (pieces: readonly Buffer[]): Promise<void> => {
      // One piece per read: the mock concatenates whatever is emitted before a read.
      for (const piece of pieces) {
        mock.last().emitData(piece);
        await nextTurn();
      }
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

describe('SerialScanner over SerialPortMock', () => {
  let scanner: SerialScanner | null = null;

  afterEach(async () => {
    await scanner?.stop();
    scanner = null;
    SerialPortMock.binding.reset();
    vi.useRealTimers();
  });

  const make = (options: Partial<SerialScannerOptions> = {}) => {
    const path = `/dev/ttyMOCK${portNumber++}`;
    const mock = recordingMockBinding();
    const log = captureLogger();
    scanner = new SerialScanner({ path, suffix: '\r\n', reopenDelayMs: 20, ...options }, { logger: log.logger, binding: mock.binding });
    const frames: ScanFrame[] = [];
    const events: string[] = [];
    scanner.on('frame', (f) => frames.push(f));
    scanner.on('connected', () => events.push('connected'));
    scanner.on('disconnected', (reason) => events.push(`disconnected: ${reason}`));
    return { scanner, path, mock, log, frames, events };
  };

  it('opens the port with the configured baud rate, 8N1, locked', async () => {
    const { scanner, path, mock } = make({ baudRate: 115200 });
    SerialPortMock.binding.createPort(path);
    await scanner.start();
    expect(mock.last().openOptions).toMatchObject({ path, baudRate: 115200, dataBits: 8, stopBits: 1, parity: 'none', lock: true });
  });

  it('starts without the device, reports it, keeps retrying, and connects when it appears', async () => {
    const { scanner, path, mock, frames, events, log } = make();
    await expect(scanner.start()).resolves.toBeUndefined();
    expect(scanner.connected).toBe(false);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^disconnected: open failed: Port does not exist/);
    await waitFor(() => mock.attempts() >= 3, 10_000, 'three open attempts');
    expect(log.messages('scanner.unavailable')).toHaveLength(1); // one warning per outage, not per retry
    SerialPortMock.binding.createPort(path);
    await waitFor(() => scanner.connected, 10_000, 'the scanner to connect');
    mock.last().emitData('046090001234\r\n');
    await waitFor(() => frames.length === 1, 10_000, 'a frame');
    expect(frames[0]!.text).toBe('046090001234');
    expect(events.slice(1)).toEqual(['connected']);
  });

  it('reconnects by itself when the adapter is pulled and plugged back, without gluing a half scan', async () => {
    const { scanner, path, mock, frames, events } = make();
    SerialPortMock.binding.createPort(path);
    await scanner.start();
    mock.last().emitData('HALF-A-SC');
    await nextTurn();
    const attemptsBefore = mock.attempts();
    await unplugMockPort(mock.last());
    await waitFor(() => events.length === 2, 10_000, 'the disconnected event');
    expect(events[1]).toMatch(/^disconnected: /);
    expect(scanner.connected).toBe(false);
    await waitFor(() => mock.attempts() >= attemptsBefore + 2, 10_000, 'failed reopen attempts');
    SerialPortMock.binding.createPort(path);
    await waitFor(() => scanner.connected, 10_000, 'the scanner to reconnect');
    mock.last().emitData('046090001234\r\n');
    await waitFor(() => frames.length === 1, 10_000, 'a frame after the reconnect');
    expect(frames.map((f) => f.text)).toEqual(['046090001234']);
    expect(events).toEqual(['connected', events[1], 'connected']);
  });

  it('backs off exponentially up to the cap while the device stays away, and stop() ends the retries', async () => {
    vi.useFakeTimers();
    const { scanner, mock } = make({ reopenDelayMs: 100, maxReopenDelayMs: 400 });
    await scanner.start();
    expect(mock.attempts()).toBe(1);
    const attemptsAfter = async (ms: number): Promise<number> => {
      await vi.advanceTimersByTimeAsync(ms);
      return mock.attempts();
    };
    expect(await attemptsAfter(99)).toBe(1);
    expect(await attemptsAfter(1)).toBe(2); // +100
    expect(await attemptsAfter(199)).toBe(2);
    expect(await attemptsAfter(1)).toBe(3); // +200
    expect(await attemptsAfter(400)).toBe(4); // +400
    expect(await attemptsAfter(400)).toBe(5); // capped
    expect(await attemptsAfter(400)).toBe(6);
    await scanner.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(await attemptsAfter(5000)).toBe(6);
  });

  it('isolates a frame listener that throws: the others still get the frame and reading goes on', async () => {
    const { scanner, path, mock, frames, log } = make();
    SerialPortMock.binding.createPort(path);
    scanner.prependListener('frame', () => {
      throw new Error('listener bug');
    });
    await scanner.start();
    mock.last().emitData('ONE\r\n');
    await waitFor(() => frames.length === 1, 10_000, 'the first frame');
    mock.last().emitData('TWO\r\n');
    await waitFor(() => frames.length === 2, 10_000, 'the second frame');
    expect(log.messages('scanner.listener-failed')).toHaveLength(2);
  });

  it('drops a partial frame after the inter-byte timeout, logs it, and reads the next scan', async () => {
    const { scanner, path, mock, frames, log } = make({ interByteTimeoutMs: 30 });
    SerialPortMock.binding.createPort(path);
    await scanner.start();
    mock.last().emitData('NOISE');
    await waitFor(() => log.messages('scanner.partial-dropped').length === 1, 10_000, 'the partial to be dropped');
    expect(scanner.discardedFrames).toBe(1);
    mock.last().emitData('046090001234\r\n');
    await waitFor(() => frames.length === 1, 10_000, 'a frame');
    expect(frames[0]!.text).toBe('046090001234');
  });

  it('closes the port on stop() and delivers nothing afterwards', async () => {
    const { scanner, path, mock, frames } = make();
    SerialPortMock.binding.createPort(path);
    await scanner.start();
    const port = mock.last();
    await scanner.stop();
    expect(port.isOpen).toBe(false);
    expect(scanner.connected).toBe(false);
    expect(() => port.emitData('LATE\r\n')).toThrow(/Port must be open/);
    expect(frames).toHaveLength(0);
  });
});

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScanFrame } from '../../hardware/scanners/scanner.js';
import { SerialScanner } from '../../hardware/scanners/serialScanner.js';
import { silentLogger } from '../fakes/captureLogger.js';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';
import { scannerContract, splitAt } from './scannerContract.js';

/**
 * The serial driver with the REAL serialport binding (no `binding` injected) on a real
 * pseudo-terminal pair from socat: the test writes the module's bytes into one end, the
 * driver reads the other end through the kernel's tty layer.
 */

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

scannerContract(
  'serial over a real pty pair (socat)',
  async ({ maxFrameBytes }) => {
    const pair = await VirtualSerialPair.open();
    // A long inter-byte timeout: the loaded test machine must not turn a slow write into a glitch.
    const scanner = new SerialScanner({ path: pair.devicePath, suffix: '\r\n', maxFrameBytes, interByteTimeoutMs: 1000, reopenDelayMs: 50 }, { logger: silentLogger() });
    const sendRaw = async (pieces: readonly Buffer[]): Promise<void> => {
      for (const piece of pieces) {
        pair.write(piece);
        await nextTurn();
      }
    };
    return {
      scanner,
      sendRaw,
      sendScan: (payload, cuts = []) => sendRaw(splitAt(Buffer.concat([payload, Buffer.from('\r\n')]), cuts)),
      dispose: () => pair.close(),
    };
  },
  { byteStream: true },
);

describe('SerialScanner over a real pty', () => {
  const tempDir = useTempDir('qrgate-pty-');
  const pairs: VirtualSerialPair[] = [];
  let scanner: SerialScanner | null = null;

  afterEach(async () => {
    await scanner?.stop();
    scanner = null;
    for (const pair of pairs.splice(0)) await pair.close();
  });

  const links = (): [string, string] => {
    const dir = tempDir();
    return [join(dir, 'module-side'), join(dir, 'ttyQR')];
  };

  const make = (path: string) => {
    scanner = new SerialScanner({ path, suffix: '\r\n', interByteTimeoutMs: 1000, reopenDelayMs: 50, maxReopenDelayMs: 200 }, { logger: silentLogger() });
    const frames: ScanFrame[] = [];
    const events: string[] = [];
    scanner.on('frame', (f) => frames.push(f));
    scanner.on('connected', () => events.push('connected'));
    scanner.on('disconnected', (reason) => events.push(`disconnected: ${reason}`));
    return { scanner, frames, events };
  };

  it('reopens the device by itself when socat dies and a new pty appears on the same link', async () => {
    const [moduleSide, ttyQR] = links();
    const first = await VirtualSerialPair.open({ scanner: moduleSide, device: ttyQR });
    pairs.push(first);
    const { scanner, frames, events } = make(ttyQR);
    await scanner.start();
    expect(scanner.connected).toBe(true);
    first.write('FIRST-1\r\n');
    await waitFor(() => frames.length === 1, 15_000, 'a frame on the first pty');

    await first.close(); // the module is unplugged: its tty goes away under the driver
    await waitFor(() => events.length === 2, 15_000, 'the disconnected event');
    expect(events[1]).toMatch(/^disconnected: /);

    const second = await VirtualSerialPair.open({ scanner: moduleSide, device: ttyQR });
    pairs.push(second);
    await waitFor(() => scanner.connected, 15_000, 'the driver to reopen the new pty');
    second.write('SECOND-2\r\n');
    await waitFor(() => frames.length === 2, 15_000, 'a frame on the second pty');
    expect(frames.map((f) => f.text)).toEqual(['FIRST-1', 'SECOND-2']);
    expect(events).toEqual(['connected', events[1], 'connected']);
  });

  it('starts while the device is absent and connects once it appears', async () => {
    const [moduleSide, ttyQR] = links();
    const { scanner, frames, events } = make(ttyQR);
    await scanner.start();
    expect(scanner.connected).toBe(false);
    expect(events[0]).toMatch(/^disconnected: open failed: /);
    const pair = await VirtualSerialPair.open({ scanner: moduleSide, device: ttyQR });
    pairs.push(pair);
    await waitFor(() => scanner.connected, 15_000, 'the driver to open the pty');
    pair.write('046090001234|Nguyễn Văn An\r\n');
    await waitFor(() => frames.length === 1, 15_000, 'a frame');
    expect(frames[0]!.text).toBe('046090001234|Nguyễn Văn An');
  });
});

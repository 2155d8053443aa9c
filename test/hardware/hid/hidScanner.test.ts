import { afterEach, describe, expect, it, vi } from 'vitest';
import { HidScanner, type HidMode, type HidScannerOptions } from '../../../hardware/scanners/hid/hidScanner.js';
import type { ScanFrame } from '../../../hardware/scanners/scanner.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { fakeHidFactory } from '../../fakes/fakeHid.js';
import { kb, keyboardReportsFor, posReportsFor, RELEASE } from '../../fakes/hidReports.js';
import { waitFor } from '../../helpers/waitFor.js';
import { scannerContract } from '../scannerContract.js';

const harness = (mode: HidMode) => async ({ maxFrameBytes }: { maxFrameBytes: number }) => {
  const hid = fakeHidFactory();
  const scanner = new HidScanner({ vendorId: 0x1eab, productId: 0x8003, mode, maxFrameBytes, reopenDelayMs: 20 }, { logger: silentLogger(), openDevice: hid.openDevice });
  return {
    scanner,
    // A keyboard wedge types the text (Alt codes for what a US layout lacks) and Enter;
    // a POS scanner sends the bytes in 56-byte reports, cut where the test asks.
    sendScan: (payload: Buffer, cuts: readonly number[] = []) =>
      hid.current().play(mode === 'keyboard' ? keyboardReportsFor(payload.toString('utf8')) : posReportsFor(payload, { cuts })),
    dispose: async () => {},
  };
};

scannerContract('hid keyboard wedge (fake device)', harness('keyboard'), { byteStream: false });
scannerContract('hid pos (fake device)', harness('pos'), { byteStream: false });

describe('HidScanner', () => {
  let scanner: HidScanner | null = null;

  afterEach(async () => {
    await scanner?.stop();
    scanner = null;
    vi.useRealTimers();
  });

  const make = (options: Partial<HidScannerOptions> = {}) => {
    const hid = fakeHidFactory();
    const log = captureLogger();
    scanner = new HidScanner({ vendorId: 0x1eab, productId: 0x8003, mode: 'keyboard', reopenDelayMs: 20, ...options }, { logger: log.logger, openDevice: hid.openDevice });
    const frames: ScanFrame[] = [];
    const events: string[] = [];
    scanner.on('frame', (f) => frames.push(f));
    scanner.on('connected', () => events.push('connected'));
    scanner.on('disconnected', (reason) => events.push(`disconnected: ${reason}`));
    return { scanner, hid, log, frames, events };
  };

  it('opens the configured device and mode', async () => {
    const { scanner, hid } = make({ path: '/dev/hidraw3', mode: 'pos' });
    await scanner.start();
    expect(hid.current().target).toEqual({ vendorId: 0x1eab, productId: 0x8003, path: '/dev/hidraw3', mode: 'pos' });
  });

  it('reconnects by itself when the device goes away and comes back', async () => {
    const { scanner, hid, frames, events } = make();
    await scanner.start();
    await hid.current().play(keyboardReportsFor('HALF', { enter: false }));
    hid.present = false;
    hid.current().unplug();
    expect(events).toEqual(['connected', 'disconnected: read failed: could not read from HID device']);
    expect(hid.devices[0]!.closed).toBe(true);
    const opensBefore = hid.devices.length;
    hid.present = true;
    await waitFor(() => scanner.connected, 10_000, 'the scanner to reopen the device');
    expect(hid.devices.length).toBe(opensBefore + 1);
    await hid.current().play(keyboardReportsFor('046090001234'));
    await waitFor(() => frames.length === 1, 10_000, 'a frame');
    expect(frames.map((f) => f.text)).toEqual(['046090001234']); // the half scan was not glued on
    expect(events.at(-1)).toBe('connected');
  });

  it('starts without the device and connects when it is plugged in', async () => {
    const { scanner, hid, events } = make();
    hid.present = false;
    await scanner.start();
    expect(scanner.connected).toBe(false);
    expect(events).toEqual(['disconnected: open failed: no HID device 1eab:8003 found']);
    hid.present = true;
    await waitFor(() => scanner.connected, 10_000, 'the scanner to connect');
  });

  it('drops a scan without its Enter after the partial timeout (fake timers)', async () => {
    vi.useFakeTimers();
    const { scanner, hid, frames, log } = make({ partialTimeoutMs: 500 });
    await scanner.start();
    const device = hid.current();
    for (const r of keyboardReportsFor('NOENTER', { enter: false })) device.report(r);
    await vi.advanceTimersByTimeAsync(499);
    expect(log.messages('scanner.partial-dropped')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(log.messages('scanner.partial-dropped')).toHaveLength(1);
    for (const r of keyboardReportsFor('OK')) device.report(r);
    expect(frames.map((f) => f.text)).toEqual(['OK']);
    await scanner.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stamps a frame with the time of the report that completed it', async () => {
    let now = 1_000n;
    const hid = fakeHidFactory();
    scanner = new HidScanner({ vendorId: 1, productId: 2, mode: 'keyboard' }, { logger: silentLogger(), openDevice: hid.openDevice, now: () => now });
    const frames: ScanFrame[] = [];
    scanner.on('frame', (f) => frames.push(f));
    await scanner.start();
    hid.current().report(kb(0, 0x1e));
    hid.current().report(RELEASE);
    now = 5_000n;
    hid.current().report(kb(0, 0x28));
    expect(frames[0]).toMatchObject({ text: '1', lastByteAtNs: 5_000n, source: 'scanner' });
  });

  it('ignores reports after stop()', async () => {
    const { scanner, hid, frames } = make();
    await scanner.start();
    const device = hid.current();
    await scanner.stop();
    expect(device.closed).toBe(true);
    expect(() => device.report(kb(0, 0x28))).toThrow(/closed/);
    expect(frames).toHaveLength(0);
  });
});

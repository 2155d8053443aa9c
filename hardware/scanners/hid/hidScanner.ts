import type { Logger } from 'pino';
import { ReconnectingScanner } from '../scannerBase.js';
import { KeyboardReportDecoder, type DecodedFrame } from './keyboardReport.js';
import { PosReportDecoder } from './posReport.js';

export type HidMode = 'keyboard' | 'pos';

export interface HidTarget {
  readonly vendorId: number;
  readonly productId: number;
  /** A hidraw path (`/dev/hidraw0`); without it the first matching interface is opened. */
  readonly path?: string;
  readonly mode: HidMode;
}

/** What the driver needs of an open device; node-hid's `HIDAsync` fits. */
export interface HidDevice {
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close(): Promise<void> | void;
}

export type HidDeviceFactory = (target: HidTarget) => Promise<HidDevice>;

export interface HidScannerOptions extends HidTarget {
  /** Default 1024. */
  readonly maxFrameBytes?: number;
  /** A scan not finished (no Enter, no last report) after this idle gap is dropped, ms. Default 1000. */
  readonly partialTimeoutMs?: number;
  readonly reopenDelayMs?: number;
  readonly maxReopenDelayMs?: number;
}

export interface HidScannerDeps {
  readonly logger: Logger;
  /** Default: node-hid (`openNodeHidDevice`). Tests pass a factory of fake devices. */
  readonly openDevice?: HidDeviceFactory;
  readonly now?: () => bigint;
}

const hex = (n: number): string => n.toString(16).padStart(4, '0');

/**
 * Opens the scanner with node-hid (loaded on first use). Without a path it picks, among the
 * device's interfaces, the one whose usage page fits the mode (0x01/0x06 keyboard, 0x8C POS):
 * many scanners expose both.
 */
export const openNodeHidDevice: HidDeviceFactory = async (target) => {
  const hid = await import('node-hid');
  if (target.path) return hid.HIDAsync.open(target.path);
  const candidates = await hid.devicesAsync(target.vendorId, target.productId);
  const fits = (d: (typeof candidates)[number]): boolean =>
    target.mode === 'pos' ? d.usagePage === 0x8c : d.usagePage === 0x01 && d.usage === 0x06;
  const chosen = candidates.find((d) => fits(d) && d.path) ?? candidates.find((d) => d.path);
  if (!chosen?.path) throw new Error(`no HID device ${hex(target.vendorId)}:${hex(target.productId)} found`);
  return hid.HIDAsync.open(chosen.path);
};

/**
 * A USB HID QR scanner: a keyboard wedge (boot keyboard reports, US layout, Enter ends a
 * scan) or an HID-POS scanner (usage page 0x8C). Reconnects like the serial driver when the
 * device goes away (node-hid reports a read error on unplug).
 *
 * On Linux, reading hidraw does not grab a keyboard wedge: the kernel still types the scan
 * on the active console too. Give the terminal its own VT, or prefer POS mode.
 */
export class HidScanner extends ReconnectingScanner<HidDevice> {
  readonly type = 'hid';
  private keyboard: KeyboardReportDecoder | null = null;
  private pos: PosReportDecoder | null = null;
  private partialTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly options: HidScannerOptions,
    private readonly deps: HidScannerDeps,
  ) {
    super(deps.logger, options);
  }

  protected openHandle(): Promise<HidDevice> {
    const { vendorId, productId, path, mode } = this.options;
    return (this.deps.openDevice ?? openNodeHidDevice)(path === undefined ? { vendorId, productId, mode } : { vendorId, productId, path, mode });
  }

  protected attach(device: HidDevice, lost: (reason: string) => void): void {
    device.on('data', (report) => {
      if (this.isCurrent(device)) this.onReport(report);
    });
    device.on('error', (err) => lost(`read failed: ${err.message}`));
  }

  protected async closeHandle(device: HidDevice): Promise<void> {
    await device.close();
  }

  protected detached(): void {
    this.clearPartialTimer();
    this.keyboard?.reset();
    this.pos?.reset();
  }

  private onReport(report: Buffer): void {
    const atNs = this.deps.now ? this.deps.now() : process.hrtime.bigint();
    const maxFrameBytes = this.options.maxFrameBytes ?? 1024;
    let frames: DecodedFrame[];
    let pending: boolean;
    if (this.options.mode === 'pos') {
      this.pos ??= new PosReportDecoder({ maxFrameBytes });
      const frame = this.pos.push(report);
      frames = frame ? [frame] : [];
      pending = this.pos.pending;
    } else {
      this.keyboard ??= new KeyboardReportDecoder({ maxFrameBytes });
      frames = this.keyboard.push(report);
      pending = this.keyboard.pending;
    }
    for (const frame of frames) this.deliver({ ...frame, source: 'scanner', lastByteAtNs: atNs });
    this.clearPartialTimer();
    if (pending) {
      this.partialTimer = setTimeout(() => {
        this.partialTimer = null;
        this.keyboard?.discardPartial();
        this.pos?.reset();
        this.logger.warn({ mode: this.options.mode }, 'scanner.partial-dropped');
      }, this.options.partialTimeoutMs ?? 1000);
    }
  }

  private clearPartialTimer(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = null;
  }
}

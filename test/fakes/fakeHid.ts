import { EventEmitter } from 'node:events';
import type { HidDevice, HidDeviceFactory, HidTarget } from '../../hardware/scanners/hid/hidScanner.js';

/** A HID device that plays recorded reports; `unplug()` fails it the way node-hid does (an `error`). */
export class FakeHidDevice extends EventEmitter implements HidDevice {
  closed = false;

  constructor(readonly target: HidTarget) {
    super();
  }

  /** One input report, as node-hid's `data` event delivers it. */
  report(bytes: Uint8Array | readonly number[]): void {
    if (this.closed) throw new Error('the fake device is closed');
    this.emit('data', Buffer.from(bytes as Uint8Array));
  }

  /** Reports one per event-loop turn, like a device polled by a read thread. */
  async play(reports: readonly (Uint8Array | readonly number[])[]): Promise<void> {
    for (const r of reports) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.closed) return;
      this.report(r);
    }
  }

  unplug(): void {
    this.emit('error', new Error('could not read from HID device'));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.removeAllListeners();
  }
}

/** A device factory; `present = false` makes opens fail like a device that is not there. */
export function fakeHidFactory(): {
  readonly openDevice: HidDeviceFactory;
  readonly devices: FakeHidDevice[];
  readonly current: () => FakeHidDevice;
  present: boolean;
} {
  const devices: FakeHidDevice[] = [];
  const state = {
    present: true,
    devices,
    current: () => {
      const device = devices.at(-1);
      if (!device || device.closed) throw new Error('no open fake HID device');
      return device;
    },
    openDevice: async (target: HidTarget) => {
      await Promise.resolve();
      if (!state.present) throw new Error(`no HID device ${target.vendorId.toString(16)}:${target.productId.toString(16)} found`);
      const device = new FakeHidDevice(target);
      devices.push(device);
      return device;
    },
  };
  return state;
}

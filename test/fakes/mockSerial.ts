import { SerialPortMock } from 'serialport';
import type { BindingInterface } from '../../hardware/scanners/serialScanner.js';

export type MockPort = Awaited<ReturnType<typeof SerialPortMock.binding.open>>;

/**
 * serialport's MockBinding (through `SerialPortMock.binding`: importing
 * @serialport/binding-mock directly would load a second copy with its own ports), wrapped
 * to hand the test every port the driver opened, so it can `emitData` into it or pull it.
 */
export function recordingMockBinding(): {
  readonly binding: BindingInterface;
  readonly opened: MockPort[];
  readonly attempts: () => number;
  readonly last: () => MockPort;
} {
  const opened: MockPort[] = [];
  let attempts = 0;
  const binding: BindingInterface = {
    list: () => SerialPortMock.binding.list(),
    async open(options) {
      attempts++;
      const port = await SerialPortMock.binding.open(options);
      opened.push(port);
      return port;
    },
  };
  return {
    binding,
    opened,
    attempts: () => attempts,
    last: () => {
      const port = opened.at(-1);
      if (!port) throw new Error('the driver has not opened a port yet');
      return port;
    },
  };
}

/**
 * The USB-serial adapter is pulled: the port disappears from the (mock) system and the open
 * port fails under the driver. MockBinding has no per-port removal, so all ports go.
 */
export async function unplugMockPort(port: MockPort): Promise<void> {
  SerialPortMock.binding.reset();
  if (port.isOpen) await port.close();
}

import type { Logger } from 'pino';
import type { ScannerConfig } from './config.js';
import { HidScanner, type HidDeviceFactory } from './hid/hidScanner.js';
import type { Scanner } from './scanner.js';
import { SerialScanner, type BindingInterface } from './serialScanner.js';
import { SimScanner } from './simScanner.js';
import { StdinScanner } from './stdinScanner.js';

export interface CreateScannerDeps {
  readonly logger: Logger;
  /** serial: the serialport binding (tests: `SerialPortMock.binding`). */
  readonly binding?: BindingInterface;
  /** hid: how a device is opened (tests: fake devices). */
  readonly openHidDevice?: HidDeviceFactory;
  /** stdin: the stream to read (default `process.stdin`). */
  readonly input?: NodeJS.ReadableStream;
}

/**
 * The one place a scanner driver is chosen (STYLE.md habit 1). Constructing a driver does
 * no IO; `start()` opens the device.
 */
export function createScanner(config: ScannerConfig, deps: CreateScannerDeps): Scanner {
  const logger = deps.logger.child({ scanner: config.type });
  switch (config.type) {
    case 'serial':
      return new SerialScanner(
        {
          path: config.path,
          baudRate: config.baudRate,
          suffix: config.suffix,
          maxFrameBytes: config.maxFrameBytes,
          interByteTimeoutMs: config.interByteTimeoutMs,
          reopenDelayMs: config.reopenDelayMs,
        },
        { logger, ...(deps.binding ? { binding: deps.binding } : {}) },
      );
    case 'hid':
      return new HidScanner(
        {
          vendorId: config.vendorId,
          productId: config.productId,
          ...(config.path === undefined ? {} : { path: config.path }),
          mode: config.mode,
          maxFrameBytes: config.maxFrameBytes,
        },
        { logger, ...(deps.openHidDevice ? { openDevice: deps.openHidDevice } : {}) },
      );
    case 'stdin':
      return new StdinScanner({}, { logger, ...(deps.input ? { input: deps.input } : {}) });
    case 'sim':
      return new SimScanner({ suffix: config.suffix }, { logger });
  }
}

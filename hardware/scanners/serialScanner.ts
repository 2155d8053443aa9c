import type { BindingInterface, BindingPortInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import type { Logger } from 'pino';
import { Framer, type FrameSuffix } from './framer.js';
import { ReconnectingScanner } from './scannerBase.js';

export type { BindingInterface };

export interface SerialScannerOptions {
  /** `/dev/ttyUSB0`, `/dev/serial0`, or a stable `/dev/serial/by-id/...` link. */
  readonly path: string;
  /** Default 9600 (the factory setting of most UART QR modules). */
  readonly baudRate?: number;
  readonly suffix: FrameSuffix;
  /** Default 1024. */
  readonly maxFrameBytes?: number;
  /** Default 50 ms; see `Framer`. */
  readonly interByteTimeoutMs?: number;
  /** First reopen delay in ms, doubled per failure up to `maxReopenDelayMs`. Default 1000. */
  readonly reopenDelayMs?: number;
  /** Default 10 × reopenDelayMs, at most 30 s. */
  readonly maxReopenDelayMs?: number;
}

export interface SerialScannerDeps {
  readonly logger: Logger;
  /** The serialport binding; default the platform's (`SerialPort.binding`). Tests pass `SerialPortMock.binding`. */
  readonly binding?: BindingInterface;
  /** Monotonic clock for frame timestamps, ns. */
  readonly now?: () => bigint;
}

const READ_BUFFER_BYTES = 4096;

/**
 * A UART QR module on a serial port (USB-serial adapter or the Pi's own UART). Talks to the
 * serialport *binding* directly (`@serialport/bindings-interface`: open, read, close) rather
 * than through the stream class: the binding's read loop is the whole of what a scanner
 * needs, and a rejected read is exactly "the device went away" — the binding contract says
 * reads on a port we closed fail with `canceled`, any other failure is a disconnection.
 */
export class SerialScanner extends ReconnectingScanner<BindingPortInterface> {
  readonly type = 'serial';
  private framer: Framer | null = null;

  constructor(
    private readonly options: SerialScannerOptions,
    private readonly deps: SerialScannerDeps,
  ) {
    super(deps.logger, options);
  }

  /** Partial frames dropped after the inter-byte timeout (line noise, wrong suffix setting). */
  get discardedFrames(): number {
    return this.framer?.discardedFrames ?? 0;
  }

  protected async openHandle(): Promise<BindingPortInterface> {
    // Loaded on first use: a sim or HID terminal never loads the native serial binding.
    const binding: BindingInterface = this.deps.binding ?? (await import('serialport')).SerialPort.binding;
    // 8N1 without flow control: what every QR module we know ships with. `lock` takes the
    // port exclusively so a second terminal process cannot steal half the bytes.
    return binding.open({
      path: this.options.path,
      baudRate: this.options.baudRate ?? 9600,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      lock: true,
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: true,
    });
  }

  protected attach(port: BindingPortInterface, lost: (reason: string) => void): void {
    void this.readLoop(port, lost);
  }

  protected async closeHandle(port: BindingPortInterface): Promise<void> {
    if (port.isOpen) await port.close();
  }

  protected detached(): void {
    this.framer?.reset();
  }

  private getFramer(): Framer {
    this.framer ??= new Framer(
      {
        suffix: this.options.suffix,
        maxFrameBytes: this.options.maxFrameBytes ?? 1024,
        interByteTimeoutMs: this.options.interByteTimeoutMs ?? 50,
        source: 'scanner',
        ...(this.deps.now ? { now: this.deps.now } : {}),
      },
      {
        frame: (frame) => this.deliver(frame),
        discarded: (byteLength) =>
          this.logger.warn(
            { bytes: byteLength, suffix: JSON.stringify(this.options.suffix) },
            'scanner.partial-dropped', // a glitch, or a module that sends another suffix than configured
          ),
      },
    );
    return this.framer;
  }

  private async readLoop(port: BindingPortInterface, lost: (reason: string) => void): Promise<void> {
    const framer = this.getFramer();
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    for (;;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await port.read(buffer, 0, buffer.length));
      } catch (err) {
        // If we closed it, `lost` ignores the call (the handle is no longer current).
        lost(`read failed: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (!this.isCurrent(port)) return; // stop() ran while the read was in flight
      if (!port.isOpen) {
        lost('port closed');
        return;
      }
      if (bytesRead === 0) {
        lost('end of stream');
        return;
      }
      // The framer copies what it keeps, so the read buffer is reused.
      framer.push(buffer.subarray(0, bytesRead));
    }
  }
}

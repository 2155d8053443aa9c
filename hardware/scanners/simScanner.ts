import type { Logger } from 'pino';
import { Framer, type FrameSuffix } from './framer.js';
import { ScannerBase } from './scannerBase.js';

export interface SimScannerOptions {
  /** What the simulated module appends to each scan. Default `'\r\n'`. */
  readonly suffix?: FrameSuffix;
  readonly maxFrameBytes?: number;
  readonly interByteTimeoutMs?: number;
  /** Bytes per chunk when `inject` is not told otherwise. Default 32 (a USB-serial adapter's packet, roughly). */
  readonly chunkBytes?: number;
}

export interface SimScannerDeps {
  readonly logger: Logger;
  readonly now?: () => bigint;
}

export interface InjectOptions {
  /** Split the bytes into chunks of this size; each arrives in a later event-loop turn. */
  readonly chunkBytes?: number;
  /** Override the module's suffix for this scan (e.g. a misconfigured module). */
  readonly suffix?: string;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The serial module's twin (STYLE.md habit 2): scans arrive as bytes, asynchronously, in
 * chunks, with the module's suffix, through the same `Framer` as the real driver. Bytes
 * sent while it is unplugged or stopped are lost, as they would be on a wire.
 */
export class SimScanner extends ScannerBase {
  readonly type = 'sim';
  private running = false;
  private plugged = true;
  private framer: Framer | null = null;

  constructor(
    private readonly options: SimScannerOptions,
    private readonly deps: SimScannerDeps,
  ) {
    super(deps.logger);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.plugged) this.setConnected(true);
    else this.setConnected(false, 'unplugged');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.framer?.reset();
    this.markStopped();
  }

  /** A person shows a code: `text` as UTF-8 plus the suffix. Resolves once every chunk has arrived. */
  inject(text: string, options: InjectOptions = {}): Promise<void> {
    const suffix = options.suffix ?? this.options.suffix ?? '\r\n';
    return this.injectBytes(Buffer.from(text + suffix, 'utf8'), options);
  }

  /** Raw bytes (garbage, half frames, NULs), delivered like `inject`. */
  async injectBytes(bytes: Uint8Array, options: Pick<InjectOptions, 'chunkBytes'> = {}): Promise<void> {
    const chunkBytes = Math.max(1, options.chunkBytes ?? this.options.chunkBytes ?? 32);
    for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
      await nextTurn();
      if (!this.running || !this.plugged) return;
      this.getFramer().push(bytes.subarray(offset, offset + chunkBytes));
    }
  }

  /** Test helper: the cable is pulled. Emits `disconnected`; a partial frame is lost. */
  unplug(): void {
    this.plugged = false;
    this.framer?.reset();
    if (this.running) this.setConnected(false, 'unplugged');
  }

  /** Test helper: the cable is back. Emits `connected`. */
  plug(): void {
    this.plugged = true;
    if (this.running) this.setConnected(true);
  }

  private getFramer(): Framer {
    this.framer ??= new Framer(
      {
        suffix: this.options.suffix ?? '\r\n',
        maxFrameBytes: this.options.maxFrameBytes ?? 1024,
        interByteTimeoutMs: this.options.interByteTimeoutMs ?? 50,
        source: 'scanner',
        ...(this.deps.now ? { now: this.deps.now } : {}),
      },
      {
        frame: (frame) => this.deliver(frame),
        discarded: (bytes) => this.logger.warn({ bytes }, 'scanner.partial-dropped'),
      },
    );
    return this.framer;
  }
}

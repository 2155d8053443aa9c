import type { Logger } from 'pino';
import { Framer } from './framer.js';
import { ScannerBase } from './scannerBase.js';

export interface StdinScannerOptions {
  /** Longest accepted line in bytes. Default 1024. */
  readonly maxFrameBytes?: number;
}

export interface StdinScannerDeps {
  readonly logger: Logger;
  /** Default `process.stdin`. */
  readonly input?: NodeJS.ReadableStream;
  readonly now?: () => bigint;
}

/**
 * An operator typing at the terminal's console: one line = one frame, source `keyboard`
 * (so a bare ID number counts as a typed credential). No idle timeout: people type slowly.
 * End of input (Ctrl-D, a closed pipe) reports `disconnected`; there is nothing to reopen.
 */
export class StdinScanner extends ScannerBase {
  readonly type = 'stdin';
  private running = false;
  private framer: Framer | null = null;
  private readonly onData = (chunk: Buffer | string): void => {
    this.framer?.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  };
  private readonly onEnd = (): void => this.setConnected(false, 'end of input');
  private readonly onError = (err: Error): void => {
    this.logger.warn({ err }, 'scanner.stdin-error');
    this.setConnected(false, `read failed: ${err.message}`);
  };

  constructor(
    private readonly options: StdinScannerOptions,
    private readonly deps: StdinScannerDeps,
  ) {
    super(deps.logger);
  }

  private get input(): NodeJS.ReadableStream {
    return this.deps.input ?? process.stdin;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.framer ??= new Framer(
      {
        // '\n' also takes CRLF (a Windows console, a serial terminal).
        suffix: '\n',
        maxFrameBytes: this.options.maxFrameBytes ?? 1024,
        interByteTimeoutMs: 0,
        source: 'keyboard',
        ...(this.deps.now ? { now: this.deps.now } : {}),
      },
      { frame: (frame) => this.deliver(frame) },
    );
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('error', this.onError);
    this.input.resume();
    this.setConnected(true);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('error', this.onError);
    // Paused, not destroyed: process.stdin is not ours to close, and a paused stdin lets the process exit.
    this.input.pause();
    this.framer?.reset();
    this.markStopped();
  }
}

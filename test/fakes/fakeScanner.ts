import { EventEmitter } from 'node:events';
import type { FrameSource, ScanFrame, Scanner, ScannerEvents } from '../../hardware/scanners/scanner.js';

/**
 * A scanner that hands the lane whole frames synchronously, for lane logic tests under
 * fake timers. The drivers' own behaviour (chunking, framing, reconnects) is covered by
 * the scanner contract suite in test/hardware.
 */
export class FakeScanner extends EventEmitter<ScannerEvents> implements Scanner {
  readonly type = 'sim';
  connected = false;

  async start(): Promise<void> {
    this.connected = true;
  }

  async stop(): Promise<void> {
    this.connected = false;
  }

  scan(text: string, source: FrameSource = 'scanner', problem?: ScanFrame['problem']): void {
    this.emit('frame', {
      text,
      byteLength: Buffer.byteLength(text),
      source,
      lastByteAtNs: process.hrtime.bigint(),
      ...(problem ? { problem } : {}),
    });
  }
}

import type { EventEmitter } from 'node:events';

/**
 * Where a frame came from. A `keyboard` frame was typed by an operator (stdin), so a bare
 * ID number is a legitimate typed credential; from a `scanner` it is not.
 */
export type FrameSource = 'scanner' | 'keyboard';

/** Why the framer could not turn bytes into clean text. The frame is still delivered so it can be refused and logged. */
export type FrameProblem = 'too-long' | 'invalid-utf8' | 'control-bytes';

export interface ScanFrame {
  /** Decoded UTF-8 text with the suffix removed. Never logged: it may hold a raw ID number. */
  readonly text: string;
  readonly byteLength: number;
  readonly source: FrameSource;
  /** `process.hrtime.bigint()` when the frame's last byte reached the process: latency is measured from here. */
  readonly lastByteAtNs: bigint;
  readonly problem?: FrameProblem;
}

export interface ScannerEvents {
  frame: [frame: ScanFrame];
  /** The device is open and delivering bytes. */
  connected: [];
  /** The device went away (unplugged, closed, failed to open); the driver keeps trying to reopen. */
  disconnected: [reason: string];
}

/**
 * A QR scanner module. Drivers: serial UART, USB HID, stdin, and the simulated twin.
 * `start()` never throws for a missing device: the driver reports `disconnected` and
 * retries, so a terminal boots and decides even with the scanner unplugged.
 * `start()` and `stop()` are safe to call twice.
 */
export interface Scanner extends EventEmitter<ScannerEvents> {
  readonly type: 'serial' | 'hid' | 'stdin' | 'sim';
  readonly connected: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

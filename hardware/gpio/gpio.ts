import type { EventEmitter } from 'node:events';

export type Level = 0 | 1;
export type OutputName = 'green' | 'red' | 'buzzer' | 'relay';
export type InputName = 'confirm' | 'reject' | 'passage';

/**
 * One output line. Writes are synchronous on purpose: the relay must be switched off from
 * `process.on('exit')` and from an uncaught-exception handler, where nothing async runs.
 */
export interface DigitalOutput {
  readonly name: OutputName;
  write(level: Level): void;
  read(): Level;
  /** Drives the line to 0 and releases it. Safe to call twice; a write after close throws. */
  close(): void;
}

export interface DigitalInputEvents {
  /** A debounced change of the logical level (1 = active: button pressed, beam broken). */
  change: [level: Level, atNs: bigint];
}

export interface DigitalInput extends EventEmitter<DigitalInputEvents> {
  readonly name: InputName;
  read(): Level;
  close(): void;
}

/** A GPIO backend hands out lines by their offset on the configured chip. */
export interface GpioBackend {
  readonly type: 'onoff' | 'sim';
  output(name: OutputName, line: number): DigitalOutput;
  input(name: InputName, line: number, options: { debounceMs: number; activeLow: boolean }): DigitalInput;
  /** Closes every line it handed out, outputs driven to 0 first. Synchronous for the same reason as `write`. */
  closeAll(): void;
}

import type { BinaryValue, Direction, Edge, Options } from 'onoff';
import type { OnoffLine } from '../../hardware/gpio/onoffGpio.js';
import { closedLineError } from '../../hardware/gpio/lineChecks.js';

/** A stand-in for onoff's `Gpio`: records how it was opened and every write; `fire()` plays an interrupt. */
export class FakeOnoffLine implements OnoffLine {
  static lines: FakeOnoffLine[] = [];
  /** Set to make the next construction fail like an export without permission. */
  static failNext: Error | null = null;
  /** sysfs numbers in the order they were unexported. */
  static unexportOrder: number[] = [];
  readonly writes: BinaryValue[] = [];
  value: BinaryValue = 0;
  unexported = false;
  private watchers: ((err: Error | null | undefined, value: BinaryValue) => void)[] = [];

  constructor(
    readonly gpio: number,
    readonly direction: Direction,
    readonly edge?: Edge,
    readonly options?: Options,
  ) {
    if (FakeOnoffLine.failNext) {
      const err = FakeOnoffLine.failNext;
      FakeOnoffLine.failNext = null;
      throw err;
    }
    FakeOnoffLine.lines.push(this);
  }

  readSync(): BinaryValue {
    if (this.unexported) throw closedLineError(`gpio${this.gpio}`);
    return this.value;
  }

  writeSync(value: BinaryValue): void {
    if (this.unexported) throw closedLineError(`gpio${this.gpio}`);
    this.writes.push(value);
    this.value = value;
  }

  watch(callback: (err: Error | null | undefined, value: BinaryValue) => void): void {
    this.watchers.push(callback);
  }

  unwatchAll(): void {
    this.watchers = [];
  }

  unexport(): void {
    FakeOnoffLine.unexportOrder.push(this.gpio);
    this.unexported = true;
  }

  /** What onoff calls after its debounce: the (logical) level now on the line. */
  fire(value: BinaryValue, err: Error | null = null): void {
    this.value = value;
    for (const watcher of this.watchers) watcher(err, value);
  }

  get watching(): boolean {
    return this.watchers.length > 0;
  }
}

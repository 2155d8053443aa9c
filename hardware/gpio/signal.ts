import type { DigitalOutput, Level } from './gpio.js';

export interface PlayOptions {
  /** Start again after the last step until `stop()`/`on()`/`off()`/`pulse()`. Default false. */
  readonly repeat?: boolean;
}

const isClosedLine = (err: unknown): boolean => (err as NodeJS.ErrnoException | null)?.code === 'EBADF';

function checkMs(ms: number, what: string): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${what} must be a finite number of ms >= 0, got ${ms}`);
}

/**
 * Drives one output over time: an LED, the buzzer, the relay. One timer at most; any new
 * command replaces what was running (a new pulse restarts the pulse). A lane without this
 * output (`null`) gets a Signal that does nothing, so a lane without a buzzer still works.
 *
 * A closed line (the backend was closed at shutdown) was driven to 0 when it closed, so
 * switching it off again is not an error; a timer firing after close stops quietly.
 */
export class Signal {
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly output: DigitalOutput | null) {}

  /** False for the no-op Signal of an output that is not configured. */
  get configured(): boolean {
    return this.output !== null;
  }

  /** True while a pulse or pattern is running. */
  get busy(): boolean {
    return this.timer !== null;
  }

  on(): void {
    this.cancel();
    this.set(1, false);
  }

  off(): void {
    this.cancel();
    this.set(0, false);
  }

  /** On for `ms`, then off. A new pulse while one runs restarts the timer. */
  pulse(ms: number): void {
    checkMs(ms, 'pulse');
    this.cancel();
    if (!this.output) return;
    this.set(1, false);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.set(0, true);
    }, ms);
  }

  /**
   * `pattern` is on-ms, off-ms, on-ms, ...; the output is off at the end unless `repeat`.
   * (Repeating an odd-length pattern joins its last "on" to its first.)
   */
  play(pattern: readonly number[], options: PlayOptions = {}): void {
    pattern.forEach((ms, i) => checkMs(ms, `pattern[${i}]`));
    if (options.repeat && !pattern.some((ms) => ms > 0)) throw new RangeError('a repeating pattern needs a step longer than 0 ms');
    this.cancel();
    if (!this.output) return;
    if (pattern.length === 0) {
      this.set(0, false);
      return;
    }
    const step = (index: number, fromTimer: boolean): void => {
      this.timer = null;
      if (index >= pattern.length) {
        if (!options.repeat) {
          this.set(0, fromTimer);
          return;
        }
        index = 0;
      }
      if (!this.set(index % 2 === 0 ? 1 : 0, fromTimer)) return;
      this.timer = setTimeout(() => step(index + 1, true), pattern[index]);
    };
    step(0, false);
  }

  /** Timer cleared, output 0. */
  stop(): void {
    this.off();
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Writes; returns false when the line turned out to be closed (and nothing more should run). */
  private set(level: Level, fromTimer: boolean): boolean {
    if (!this.output) return false;
    try {
      this.output.write(level);
      return true;
    } catch (err) {
      if (isClosedLine(err) && (level === 0 || fromTimer)) {
        this.cancel();
        return false;
      }
      throw err;
    }
  }
}

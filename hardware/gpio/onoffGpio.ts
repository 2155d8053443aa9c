import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { BinaryValue, Direction, Edge, Options } from 'onoff';
import type { Logger } from 'pino';
import type { DigitalInput, DigitalInputEvents, DigitalOutput, GpioBackend, InputName, Level, OutputName } from './gpio.js';
import { checkLevel, closedLineError } from './lineChecks.js';
import type { ResolvedChip } from './sysfsChip.js';

/** The part of onoff's `Gpio` this driver uses; tests inject a fake class. */
export interface OnoffLine {
  readSync(): BinaryValue;
  writeSync(value: BinaryValue): void;
  watch(callback: (err: Error | null | undefined, value: BinaryValue) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export type OnoffLineClass = new (gpio: number, direction: Direction, edge?: Edge, options?: Options) => OnoffLine;

export interface OnoffGpioDeps {
  readonly logger: Logger;
  /** Default: onoff's `Gpio`, loaded on first use so a sim terminal never loads epoll. */
  readonly Gpio?: OnoffLineClass;
}

const loadOnoff = (): OnoffLineClass => (createRequire(import.meta.url)('onoff') as { Gpio: OnoffLineClass }).Gpio;

class OnoffOutput implements DigitalOutput {
  private level: Level = 0;
  private closed = false;

  constructor(
    readonly name: OutputName,
    private readonly gpio: OnoffLine,
    private readonly logger: Logger,
  ) {}

  write(level: Level): void {
    if (this.closed) throw closedLineError(this.name);
    checkLevel(level);
    this.gpio.writeSync(level);
    if (level !== this.level) this.logger.debug({ output: this.name, value: level }, 'gpio.set');
    this.level = level;
  }

  read(): Level {
    if (this.closed) throw closedLineError(this.name);
    return this.level;
  }

  close(): void {
    if (this.closed) return;
    try {
      this.write(0);
    } finally {
      this.closed = true;
      this.gpio.unexport();
    }
  }
}

class OnoffInput extends EventEmitter<DigitalInputEvents> implements DigitalInput {
  private level: Level = 0;
  private closed = false;

  constructor(
    readonly name: InputName,
    private readonly gpio: OnoffLine,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Reads the current level and starts watching; called once by the backend. */
  watch(): void {
    this.level = this.gpio.readSync();
    // onoff's debounce (lodash trailing) reports the level after the quiet period; it may
    // report the same level twice after a glitch, so only real changes are passed on.
    this.gpio.watch((err, value) => {
      if (err) {
        this.logger.warn({ err, input: this.name }, 'gpio.watch-failed');
        return;
      }
      if (this.closed || value === this.level) return;
      this.level = value;
      const atNs = process.hrtime.bigint();
      for (const listener of this.rawListeners('change') as ((level: Level, atNs: bigint) => void)[]) {
        try {
          listener.call(this, value, atNs);
        } catch (err) {
          this.logger.error({ err, input: this.name }, 'gpio.listener-failed');
        }
      }
    });
  }

  read(): Level {
    return this.level;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.gpio.unwatchAll();
    this.gpio.unexport();
  }
}

/**
 * GPIO through onoff (sysfs). Outputs use `writeSync` (the relay must be switchable from
 * an exit handler); inputs use onoff's `watch` with its `debounceTimeout` and `activeLow`.
 */
export class OnoffGpio implements GpioBackend {
  readonly type = 'onoff';
  private readonly lines: (DigitalOutput | DigitalInput)[] = [];

  constructor(
    private readonly chip: ResolvedChip,
    /** Outputs that are active when low (a relay board switched by a low pin). */
    private readonly activeLowOutputs: Partial<Record<OutputName, boolean>>,
    private readonly deps: OnoffGpioDeps,
  ) {}

  output(name: OutputName, offset: number): DigitalOutput {
    const activeLow = this.activeLowOutputs[name] ?? false;
    // sysfs "low"/"high" set the *physical* level as the line becomes an output, ignoring
    // active_low (gpiolib-sysfs direction_store uses gpiod_direction_output_raw), so the
    // inactive level is chosen here: the relay never clicks on while it is being exported.
    const gpio = this.open(name, offset, activeLow ? 'high' : 'low', 'none', { activeLow });
    const output = new OnoffOutput(name, gpio, this.deps.logger);
    output.write(0);
    this.lines.push(output);
    return output;
  }

  input(name: InputName, offset: number, options: { debounceMs: number; activeLow: boolean }): DigitalInput {
    const gpio = this.open(name, offset, 'in', 'both', { debounceTimeout: options.debounceMs, activeLow: options.activeLow });
    const input = new OnoffInput(name, gpio, this.deps.logger);
    input.watch();
    this.lines.push(input);
    return input;
  }

  closeAll(): void {
    // Outputs first: the relay is off before anything else is released.
    const ordered = [...this.lines.filter((l) => 'write' in l), ...this.lines.filter((l) => !('write' in l))];
    for (const line of ordered) {
      try {
        line.close();
      } catch (err) {
        this.deps.logger.error({ err, line: line.name }, 'gpio.close-failed');
      }
    }
  }

  private open(name: string, offset: number, direction: Direction, edge: Edge, options: Options): OnoffLine {
    const number = this.chip.gpioNumber(offset);
    const Gpio = this.deps.Gpio ?? loadOnoff();
    try {
      return new Gpio(number, direction, edge, options);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new Error(
        `cannot open GPIO ${name} (${this.chip.chipName ?? this.chip.label} line ${offset} = sysfs gpio${number}): ${detail}; ` +
          'is the user in the "gpio" group and the line not used by another driver?',
        { cause: err },
      );
    }
  }
}

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { DigitalInput, DigitalInputEvents, DigitalOutput, GpioBackend, InputName, Level, OutputName } from './gpio.js';
import { checkLevel, closedLineError } from './lineChecks.js';

/** One change of an output line, as the sim saw it. */
export interface GpioWrite {
  readonly output: OutputName;
  readonly line: number;
  readonly value: Level;
  /** `process.hrtime.bigint()` of the write. */
  readonly atNs: bigint;
}

export interface SimGpioDeps {
  readonly logger: Logger;
  readonly now?: () => bigint;
}

class SimOutput implements DigitalOutput {
  private level: Level = 0;
  private closed = false;

  constructor(
    readonly name: OutputName,
    readonly line: number,
    private readonly changed: (output: SimOutput, level: Level) => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  write(level: Level): void {
    if (this.closed) throw closedLineError(this.name);
    checkLevel(level);
    if (level === this.level) return;
    this.level = level;
    this.changed(this, level);
  }

  read(): Level {
    if (this.closed) throw closedLineError(this.name);
    return this.level;
  }

  close(): void {
    if (this.closed) return;
    this.write(0);
    this.closed = true;
  }
}

class SimInput extends EventEmitter<DigitalInputEvents> implements DigitalInput {
  private raw: Level;
  private level: Level = 0;
  private closed = false;
  private debounceTimer: ReturnType<typeof setTimeout> | null = null;
  holdTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly name: InputName,
    readonly line: number,
    readonly debounceMs: number,
    readonly activeLow: boolean,
    private readonly deps: SimGpioDeps,
  ) {
    super();
    this.raw = activeLow ? 1 : 0; // idle: pulled to the inactive level
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Physical level on the pin; the logical level follows after `debounceMs` of quiet. */
  setRaw(level: Level): void {
    if (this.closed) throw closedLineError(this.name);
    checkLevel(level);
    if (level === this.raw) return;
    this.raw = level;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = null;
    if (this.debounceMs <= 0) this.settle();
    else this.debounceTimer = setTimeout(() => this.settle(), this.debounceMs);
  }

  setActive(active: boolean): void {
    this.setRaw((active !== this.activeLow ? 1 : 0) as Level);
  }

  read(): Level {
    return this.level;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of [this.debounceTimer, this.holdTimer]) if (timer) clearTimeout(timer);
    this.debounceTimer = null;
    this.holdTimer = null;
  }

  private settle(): void {
    this.debounceTimer = null;
    const logical = (this.activeLow ? 1 - this.raw : this.raw) as Level;
    if (logical === this.level) return;
    this.level = logical;
    const atNs = this.deps.now ? this.deps.now() : process.hrtime.bigint();
    // Isolated: this runs from a timer, where a throw would take the process down.
    for (const listener of this.rawListeners('change') as ((level: Level, atNs: bigint) => void)[]) {
      try {
        listener.call(this, logical, atNs);
      } catch (err) {
        this.deps.logger.error({ err, input: this.name }, 'gpio.listener-failed');
      }
    }
  }
}

export interface PressOptions {
  /** Release after this many ms; `Infinity` holds until `release()`. Default debounceMs + 100. */
  readonly holdMs?: number;
}

/**
 * The GPIO twin (STYLE.md habit 2). Every output change is a `gpio.set` log line
 * (`{ output, value }`) and a `history` entry; a write to a closed line throws like onoff;
 * inputs are debounced like onoff's `debounceTimeout` (the level must hold for debounceMs).
 */
export class SimGpio implements GpioBackend {
  readonly type = 'sim';
  /** Every output change (not repeated writes of the same level), oldest first. */
  readonly history: GpioWrite[] = [];
  private readonly outputs = new Map<OutputName, SimOutput>();
  private readonly inputs = new Map<InputName, SimInput>();

  constructor(private readonly deps: SimGpioDeps) {}

  output(name: OutputName, line: number): DigitalOutput {
    this.checkFree(name, line);
    const output = new SimOutput(name, line, (out, value) => {
      const atNs = this.deps.now ? this.deps.now() : process.hrtime.bigint();
      this.history.push({ output: out.name, line: out.line, value, atNs });
      this.deps.logger.info({ output: out.name, value }, 'gpio.set');
    });
    this.outputs.set(name, output);
    return output;
  }

  input(name: InputName, line: number, options: { debounceMs: number; activeLow: boolean }): DigitalInput {
    this.checkFree(name, line);
    const input = new SimInput(name, line, options.debounceMs, options.activeLow, this.deps);
    this.inputs.set(name, input);
    return input;
  }

  closeAll(): void {
    for (const output of this.outputs.values()) output.close();
    for (const input of this.inputs.values()) input.close();
  }

  /** Current level of an output, 0 if it was never handed out or is closed. */
  level(name: OutputName): Level {
    try {
      return this.outputs.get(name)?.read() ?? 0;
    } catch {
      return 0;
    }
  }

  clearHistory(): void {
    this.history.length = 0;
  }

  /** Test helper: a finger on the button (or a beam broken). Momentary by default, see `PressOptions`. */
  press(name: InputName, options: PressOptions = {}): void {
    const input = this.requireInput(name);
    this.clearHold(input);
    input.setActive(true);
    const holdMs = options.holdMs ?? input.debounceMs + 100;
    if (Number.isFinite(holdMs)) {
      input.holdTimer = setTimeout(() => {
        input.holdTimer = null;
        input.setActive(false);
      }, holdMs);
    }
  }

  /** Test helper: the finger comes off (the beam is clear again). */
  release(name: InputName): void {
    const input = this.requireInput(name);
    this.clearHold(input);
    input.setActive(false);
  }

  /** Test helper: the physical pin level (an active-low input reads 0 when active). */
  setInput(name: InputName, level: Level): void {
    const input = this.requireInput(name);
    this.clearHold(input);
    input.setRaw(level);
  }

  private requireInput(name: InputName): SimInput {
    const input = this.inputs.get(name);
    if (!input) throw new Error(`sim gpio has no "${name}" input: it is not configured for this lane`);
    return input;
  }

  private clearHold(input: SimInput): void {
    if (input.holdTimer) clearTimeout(input.holdTimer);
    input.holdTimer = null;
  }

  private checkFree(name: string, line: number): void {
    for (const other of [...this.outputs.values(), ...this.inputs.values()]) {
      if (other.isClosed) continue;
      if (other.line === line) throw new Error(`gpio line ${line} is already used by ${other.name}`);
      if (other.name === name) throw new Error(`gpio ${name} is already open on line ${other.line}`);
    }
  }
}

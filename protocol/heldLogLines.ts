import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * A log destination that can keep lines back for one synchronous piece of work and then
 * write them in a single call.
 *
 * Why: a terminal's decision used to write four lines (`relay.pulse` and the GPIO's own)
 * between the scan and the gate moving, each a `write(2)` to the pipe journald (or the
 * bench) reads. Each write wakes that reader, and a woken reader may take the CPU from the
 * scan thread there and then: in `bench lists`, two thirds of the scans over 1.5 ms were
 * preempted inside those writes (docs/benchmarks.md, "What a scan still waited on"). Held,
 * the lines go out in one write once the gate has been actuated, in the order they were
 * logged, before the event loop turns: the log still says what happened before the next
 * scan is read, and a killed process loses at most the lines of the decision it was in
 * (its event is in the outbox already, which is what counts).
 */
export class HeldLogDestination implements DestinationStream {
  private held: string[] | null = null;

  constructor(private readonly inner: DestinationStream) {}

  write(line: string): void {
    if (this.held) this.held.push(line);
    else this.inner.write(line);
  }

  /** Runs `work` with every line kept back, then writes them in one call (also when `work` throws). */
  hold<T>(work: () => T): T {
    if (this.held) return work(); // already held by an outer call: its release writes them
    this.held = [];
    try {
      return work();
    } finally {
      const lines = this.held;
      this.held = null;
      if (lines.length > 0) this.inner.write(lines.join(''));
    }
  }

  /** pino's `logger.flush()`: a held line is not lost to it (nothing is held between calls). */
  flush(callback?: (err?: Error) => void): void {
    const inner = this.inner as DestinationStream & { flush?: (cb?: (err?: Error) => void) => void };
    if (inner.flush) inner.flush(callback);
    else callback?.();
  }
}

/**
 * Runs `work` with `logger`'s lines (and its children's: they share the destination) held
 * until it returns, when the logger writes to a HeldLogDestination; otherwise just runs it.
 */
export function withLogLinesHeld<T>(logger: Logger, work: () => T): T {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  return stream instanceof HeldLogDestination ? stream.hold(work) : work();
}

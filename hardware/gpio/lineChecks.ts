import type { Level } from './gpio.js';

/* Checks every GPIO backend makes the same way, so the twin fails exactly like the driver. */

/** The error onoff gives for a write to an unexported line (fs.writeSync on a closed fd). */
export function closedLineError(name: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`EBADF: bad file descriptor, write (gpio ${name} is closed)`);
  err.code = 'EBADF';
  err.errno = -9;
  err.syscall = 'write';
  return err;
}

export function checkLevel(level: unknown): asserts level is Level {
  if (level !== 0 && level !== 1) throw new TypeError(`a GPIO level is 0 or 1, got ${String(level)}`);
}

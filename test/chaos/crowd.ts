import { open } from 'node:fs/promises';
import type { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';

export interface Crowd {
  /** Scans written so far. */
  readonly written: () => number;
  /** Stops writing; safe in a cleanup after a failure (see below). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * People in front of a pty scanner: `next()` gives each one's QR text and the pause after
 * it. Writes go on whatever state the terminal is in; while nobody reads the pty its buffer
 * fills and a write blocks, so `stop()` pulls the cable (closes the pair) if the last write
 * does not come back within 2 s, which unblocks it.
 */
export async function startCrowd(pair: VirtualSerialPair, next: () => { text: string; pauseMs: number }): Promise<Crowd> {
  const scanner = await open(pair.scannerPath, 'w');
  let running = true;
  let written = 0;
  const loop = (async () => {
    try {
      while (running) {
        const { text, pauseMs } = next();
        await scanner.write(`${text}\r\n`);
        written++;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    } catch {
      // the pair was closed under a blocked write: the crowd is over
    }
  })();
  let stopping: Promise<void> | null = null;
  return {
    written: () => written,
    stop: () =>
      (stopping ??= (async () => {
        running = false;
        const ended = await Promise.race([loop.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000))]);
        if (!ended) {
          await pair.close();
          await loop;
        }
        await scanner.close();
      })()),
  };
}

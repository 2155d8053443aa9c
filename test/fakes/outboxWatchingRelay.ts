import type { DigitalOutput } from '../../hardware/gpio/gpio.js';
import type { TerminalDb } from '../../gateway/terminalDb.js';

/**
 * Wraps a relay output to note how many outbox rows existed each time it was switched on:
 * the proof that a decision is stored before the gate moves.
 */
export function outboxWatchingRelay(relay: DigitalOutput, db: TerminalDb): { relay: DigitalOutput; rowsWhenRelayOn: number[] } {
  const countRows = db.prepare<[], number>('SELECT count(*) FROM outbox').pluck();
  const rowsWhenRelayOn: number[] = [];
  return {
    rowsWhenRelayOn,
    relay: {
      name: relay.name,
      write: (level) => {
        if (level === 1) rowsWhenRelayOn.push(countRows.get()!);
        relay.write(level);
      },
      read: () => relay.read(),
      close: () => relay.close(),
    },
  };
}

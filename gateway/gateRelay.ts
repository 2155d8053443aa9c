import type { Logger } from 'pino';
import type { DigitalOutput } from '../hardware/gpio/gpio.js';
import { Signal } from '../hardware/gpio/signal.js';
import type { ScanEvent } from '../protocol/event.js';

/** The recorded decision a pulse serves: the relay cannot be pulsed for nothing. */
export type PulseServes = Pick<ScanEvent, 'id' | 'seq' | 'decision'>;

/**
 * A lane's relay. Every pulse request names the recorded event it serves and is logged as
 * `relay.pulse` ({ eventId, seq, decision, pulseMs }) before the line moves (in a lane's
 * decision the line is written out with the decision's others once the gate has moved, in
 * this order: protocol/heldLogLines.ts). The line
 * itself only shows edges (`gpio.set`): a request that extends an energised relay, or a
 * grant right after another, changes no level, so a check that watched the line alone
 * could not tell which decision kept the gate open. This record is what it judges.
 */
export class GateRelay {
  private readonly signal: Signal;

  constructor(
    output: DigitalOutput | null,
    private readonly logger: Logger,
  ) {
    this.signal = new Signal(output);
  }

  get configured(): boolean {
    return this.signal.configured;
  }

  /** True while a pulse runs (the relay is energised). */
  get busy(): boolean {
    return this.signal.busy;
  }

  /** Energises the relay for `ms` (a pulse already running restarts), for the decision `serves`. */
  pulse(ms: number, serves: PulseServes): void {
    this.request(ms, { eventId: serves.id, seq: serves.seq, decision: serves.decision });
  }

  /**
   * A pulse that serves no decision: `qrgate doctor` asking the technician whether the relay
   * clicks. Logged too, with no event, so a check reading a terminal's log flags it there.
   */
  checkPulse(ms: number): void {
    this.request(ms, { eventId: null, seq: null, decision: null, purpose: 'hardware-check' });
  }

  private request(ms: number, record: Record<string, unknown>): void {
    // A lane without a relay opens nothing: there is no pulse to account for.
    if (this.signal.configured) this.logger.info({ ...record, pulseMs: ms }, 'relay.pulse');
    this.signal.pulse(ms);
  }

  /** De-energised, timer cleared: the gate is closed. */
  stop(): void {
    this.signal.stop();
  }
}

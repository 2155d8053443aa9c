import type { Logger } from 'pino';
import type { DigitalOutput, OutputName } from '../hardware/gpio/gpio.js';
import { Signal } from '../hardware/gpio/signal.js';
import { GateRelay, type PulseServes } from './gateRelay.js';

export interface LaneSignals {
  readonly green: Signal;
  readonly red: Signal;
  readonly buzzer: Signal;
  readonly relay: GateRelay;
}

/** A lane's signals on its output lines (null: not wired); `logger` records the relay's pulses. */
export function laneSignals(outputs: Readonly<Record<OutputName, DigitalOutput | null>>, logger: Logger): LaneSignals {
  return {
    relay: new GateRelay(outputs.relay, logger),
    green: new Signal(outputs.green),
    red: new Signal(outputs.red),
    buzzer: new Signal(outputs.buzzer),
  };
}

/**
 * What a person at the gate sees and hears. Distinct on purpose: green and one short beep
 * with the gate opening; red and one long buzz for no; amber blinking (green and red
 * together) with a double beep while an operator must decide.
 */
const REFUSED_RED_MS = 1500;
const REFUSED_BUZZ_MS = 700;
const GRANTED_BEEP_MS = 100;
const PENDING_BLINK = [300, 300];
const PENDING_BEEP = [80, 120, 80];

/** `grant` is the recorded event the gate opens for. */
export function showGranted(signals: LaneSignals, pulseMs: number, grant: PulseServes): void {
  // The relay first: it is what the person is waiting for.
  signals.relay.pulse(pulseMs, grant);
  signals.red.off();
  signals.green.pulse(pulseMs);
  signals.buzzer.pulse(GRANTED_BEEP_MS);
}

export function showRefused(signals: LaneSignals): void {
  signals.red.pulse(REFUSED_RED_MS);
  signals.green.off();
  signals.buzzer.pulse(REFUSED_BUZZ_MS);
}

export function showPending(signals: LaneSignals): void {
  signals.green.play(PENDING_BLINK, { repeat: true });
  signals.red.play(PENDING_BLINK, { repeat: true });
  signals.buzzer.play(PENDING_BEEP);
}

export function clearIndicators(signals: LaneSignals): void {
  signals.green.stop();
  signals.red.stop();
  signals.buzzer.stop();
}

/** Everything off, the relay included: the gate is closed. */
export function allOff(signals: LaneSignals): void {
  signals.relay.stop();
  clearIndicators(signals);
}

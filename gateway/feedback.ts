import type { Signal } from '../hardware/gpio/signal.js';

export interface LaneSignals {
  readonly green: Signal;
  readonly red: Signal;
  readonly buzzer: Signal;
  readonly relay: Signal;
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

export function showGranted(signals: LaneSignals, pulseMs: number): void {
  // The relay first: it is what the person is waiting for.
  signals.relay.pulse(pulseMs);
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

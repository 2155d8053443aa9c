import type { EnrollRefusalReason } from '../../protocol/enrollment.js';
import type { LaneSignals } from '../feedback.js';

/**
 * What a technician sees and hears while a terminal enrolls (docs/enrollment.md has the
 * same table). The green LED tells the step; a refusal lights red and counts its reason
 * out in short beeps, so "why" needs no screen and no log:
 *
 *   waiting for the QR     green blinks once every 2 s
 *   talking to the central green flickers fast
 *   enrolled               green on for 3 s, two short beeps
 *   refused                red on for 3 s and N short beeps: 1 not an enrollment QR,
 *                          2 expired, 3 already used, 4 forged, 5 another deployment,
 *                          6 checkpoint retired; one long beep: central unreachable or
 *                          busy, scan again; two long beeps: this terminal's hardware
 *                          config does not fit the checkpoint (see the log)
 */

export type EnrollFailure = EnrollRefusalReason | 'not-enrollment-qr' | 'central-unreachable' | 'bad-answer' | 'config-invalid';

const beepMs = 150;
const longBeepMs = 1000;
export const outcomeShowMs = 3000;

/** Buzzer patterns (on, off, on, …, ms). Every verdict on a QR has its own (a test checks); the "scan again" ones share one. */
export const failureBeeps: Record<EnrollFailure, readonly number[]> = {
  'not-enrollment-qr': beeps(1),
  expired: beeps(2),
  replayed: beeps(3),
  forged: beeps(4),
  'wrong-deployment': beeps(5),
  'checkpoint-retired': beeps(6),
  'central-unreachable': [longBeepMs],
  unavailable: [longBeepMs],
  'bad-answer': [longBeepMs],
  'config-invalid': [longBeepMs, 300, longBeepMs],
};

function beeps(count: number): number[] {
  return Array.from({ length: count * 2 - 1 }, () => beepMs);
}

export function showWaiting(signals: LaneSignals): void {
  signals.red.off();
  signals.buzzer.stop();
  signals.green.play([150, 1850], { repeat: true });
}

export function showContacting(signals: LaneSignals): void {
  signals.red.off();
  signals.green.play([100, 100], { repeat: true });
}

export function showEnrolled(signals: LaneSignals): void {
  signals.red.off();
  signals.green.pulse(outcomeShowMs);
  signals.buzzer.play([100, 100, 100]);
}

export function showFailure(signals: LaneSignals, failure: EnrollFailure): void {
  signals.green.off();
  signals.red.pulse(outcomeShowMs);
  signals.buzzer.play(failureBeeps[failure]);
}

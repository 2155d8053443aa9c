import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimGpio } from '../../../hardware/gpio/simGpio.js';
import { laneSignals } from '../../../gateway/feedback.js';
import { failureBeeps, showFailure, type EnrollFailure } from '../../../gateway/enroll/enrollSignals.js';
import { silentLogger } from '../../fakes/captureLogger.js';

/** What a technician hears for each verdict on a QR: counted buzzer beeps on a simulated line. */
describe('enrollment signals', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function beepsFor(failure: EnrollFailure): { beeps: number; longestMs: number; red: boolean } {
    const gpio = new SimGpio({ logger: silentLogger(), now: () => BigInt(Date.now()) * 1_000_000n });
    const signals = laneSignals(
      { green: gpio.output('green', 17), red: gpio.output('red', 27), buzzer: gpio.output('buzzer', 22), relay: gpio.output('relay', 23) },
      silentLogger(),
    );
    showFailure(signals, failure);
    vi.advanceTimersByTime(10_000);
    const buzzer = gpio.history.filter((h) => h.output === 'buzzer');
    const ons = buzzer.filter((h) => h.value === 1);
    const longestMs = Math.max(...ons.map((on) => Number((buzzer.find((h) => h.atNs > on.atNs && h.value === 0)?.atNs ?? on.atNs) - on.atNs) / 1e6));
    const red = gpio.history.some((h) => h.output === 'red' && h.value === 1);
    expect(gpio.history.some((h) => h.output === 'relay' && h.value === 1)).toBe(false);
    return { beeps: ons.length, longestMs, red };
  }

  it('each verdict on a QR has its own count of beeps, red lit, the relay untouched', () => {
    const verdicts: EnrollFailure[] = ['not-enrollment-qr', 'expired', 'replayed', 'forged', 'wrong-deployment', 'checkpoint-retired'];
    const heard = verdicts.map((v) => beepsFor(v));
    expect(heard.map((h) => h.beeps)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(heard.every((h) => h.red)).toBe(true);
  });

  it('"scan again" is one long beep, distinct from every count of short ones', () => {
    const unreachable = beepsFor('central-unreachable');
    expect(unreachable.beeps).toBe(1);
    expect(unreachable.longestMs).toBeGreaterThan(beepsFor('not-enrollment-qr').longestMs * 3);
    expect(failureBeeps['config-invalid']).not.toEqual(failureBeeps['central-unreachable']);
  });
});

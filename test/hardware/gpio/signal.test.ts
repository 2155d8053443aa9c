import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Signal } from '../../../hardware/gpio/signal.js';
import { SimGpio } from '../../../hardware/gpio/simGpio.js';
import { silentLogger } from '../../fakes/captureLogger.js';

describe('Signal (fake timers)', () => {
  let gpio: SimGpio;

  beforeEach(() => {
    vi.useFakeTimers();
    gpio = new SimGpio({ logger: silentLogger(), now: () => BigInt(Date.now()) });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /** The output's edges as [ms since start, level]. */
  const edges = (start: number): [number, number][] => gpio.history.map((w) => [Number(w.atNs) - start, w.value]);

  it('on() and off()', () => {
    const signal = new Signal(gpio.output('green', 17));
    signal.on();
    expect(gpio.level('green')).toBe(1);
    signal.off();
    expect(gpio.level('green')).toBe(0);
    expect(signal.configured).toBe(true);
  });

  it('pulse(ms) switches off after ms; a new pulse restarts the timer', () => {
    const start = Date.now();
    const signal = new Signal(gpio.output('relay', 23));
    signal.pulse(1000);
    vi.advanceTimersByTime(600);
    signal.pulse(1000); // a second valid scan while the gate is open
    vi.advanceTimersByTime(999);
    expect(gpio.level('relay')).toBe(1);
    vi.advanceTimersByTime(1);
    expect(gpio.level('relay')).toBe(0);
    expect(edges(start)).toEqual([
      [0, 1],
      [1600, 0],
    ]);
    expect(signal.busy).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('play() runs on/off steps and ends off', () => {
    const start = Date.now();
    const signal = new Signal(gpio.output('buzzer', 22));
    signal.play([80, 120, 80]);
    vi.advanceTimersByTime(1000);
    expect(edges(start)).toEqual([
      [0, 1],
      [80, 0],
      [200, 1],
      [280, 0],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('play(..., { repeat: true }) loops until stop(), which clears the timer and leaves the output at 0', () => {
    const start = Date.now();
    const signal = new Signal(gpio.output('green', 17));
    signal.play([300, 300], { repeat: true });
    vi.advanceTimersByTime(1300);
    expect(edges(start)).toEqual([
      [0, 1],
      [300, 0],
      [600, 1],
      [900, 0],
      [1200, 1],
    ]);
    signal.stop();
    expect(gpio.level('green')).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a pulse replaces a running pattern, and on() replaces a pulse', () => {
    const signal = new Signal(gpio.output('red', 27));
    signal.play([100, 100], { repeat: true });
    signal.pulse(500);
    vi.advanceTimersByTime(150);
    expect(gpio.level('red')).toBe(1);
    signal.on();
    vi.advanceTimersByTime(10_000);
    expect(gpio.level('red')).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('is a no-op for an output that is not configured', () => {
    const buzzer = new Signal(null);
    expect(buzzer.configured).toBe(false);
    buzzer.on();
    buzzer.pulse(100);
    buzzer.play([100, 100], { repeat: true });
    buzzer.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses negative or non-finite durations and an endless zero-length loop', () => {
    const signal = new Signal(gpio.output('green', 17));
    expect(() => signal.pulse(-1)).toThrow(RangeError);
    expect(() => signal.play([100, Number.NaN])).toThrow(RangeError);
    expect(() => signal.play([0, 0], { repeat: true })).toThrow(RangeError);
  });

  it('stops quietly when the line was closed under a running pulse (shutdown), but refuses to switch a closed line on', () => {
    const relay = gpio.output('relay', 23);
    const signal = new Signal(relay);
    signal.pulse(1000);
    gpio.closeAll(); // the relay is driven to 0 by close
    expect(() => vi.advanceTimersByTime(1000)).not.toThrow();
    expect(() => signal.stop()).not.toThrow();
    expect(() => signal.on()).toThrow(expect.objectContaining({ code: 'EBADF' }));
    const blinking = new Signal(gpio.output('green', 17));
    blinking.play([100, 100], { repeat: true });
    gpio.closeAll();
    expect(() => vi.advanceTimersByTime(1000)).not.toThrow();
    expect(vi.getTimerCount()).toBe(0);
  });
});

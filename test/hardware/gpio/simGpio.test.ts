import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Level } from '../../../hardware/gpio/gpio.js';
import { SimGpio } from '../../../hardware/gpio/simGpio.js';
import { captureLogger } from '../../fakes/captureLogger.js';

const make = () => {
  const log = captureLogger();
  let now = 0n;
  const gpio = new SimGpio({ logger: log.logger, now: () => (now += 10n) });
  return { gpio, log };
};

describe('SimGpio outputs', () => {
  it('logs every change as gpio.set { output, value }, only on change, and keeps a timed history', () => {
    const { gpio, log } = make();
    const relay = gpio.output('relay', 23);
    const green = gpio.output('green', 17);
    relay.write(0); // already 0: no change
    relay.write(1);
    relay.write(1);
    green.write(1);
    relay.write(0);
    const sets = log.messages('gpio.set');
    expect(sets.map(({ output, value, level }) => ({ output, value, level }))).toEqual([
      { output: 'relay', value: 1, level: 30 },
      { output: 'green', value: 1, level: 30 },
      { output: 'relay', value: 0, level: 30 },
    ]);
    expect(Object.keys(sets[0]!).filter((k) => !['level', 'time', 'pid', 'hostname', 'msg'].includes(k)).sort()).toEqual(['output', 'value']);
    expect(gpio.history).toEqual([
      { output: 'relay', line: 23, value: 1, atNs: 10n },
      { output: 'green', line: 17, value: 1, atNs: 20n },
      { output: 'relay', line: 23, value: 0, atNs: 30n },
    ]);
    expect([relay.read(), green.read(), gpio.level('green'), gpio.level('buzzer')]).toEqual([0, 1, 1, 0]);
    gpio.clearHistory();
    expect(gpio.history).toEqual([]);
  });

  it('refuses writes to a closed line like onoff (EBADF), after driving it to 0; close is safe twice', () => {
    const { gpio, log } = make();
    const relay = gpio.output('relay', 23);
    relay.write(1);
    relay.close();
    relay.close();
    expect(log.messages('gpio.set').at(-1)).toMatchObject({ output: 'relay', value: 0 });
    expect(() => relay.write(1)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => relay.read()).toThrow(/EBADF/);
  });

  it('refuses a level other than 0 or 1', () => {
    const { gpio } = make();
    expect(() => gpio.output('red', 27).write(2 as Level)).toThrow(TypeError);
  });

  it('closeAll() drives every output to 0 and closes inputs', () => {
    const { gpio } = make();
    const relay = gpio.output('relay', 23);
    const buzzer = gpio.output('buzzer', 22);
    gpio.input('confirm', 5, { debounceMs: 30, activeLow: false });
    relay.write(1);
    buzzer.write(1);
    gpio.closeAll();
    gpio.closeAll();
    expect(gpio.history.slice(-2).map((w) => [w.output, w.value])).toEqual([
      ['relay', 0],
      ['buzzer', 0],
    ]);
    expect(() => gpio.press('confirm')).toThrow(/EBADF/);
  });

  it('refuses one line for two names, and a second open of the same name; a closed line can be reopened', () => {
    const { gpio } = make();
    const relay = gpio.output('relay', 23);
    expect(() => gpio.output('green', 23)).toThrow('gpio line 23 is already used by relay');
    expect(() => gpio.input('passage', 23, { debounceMs: 0, activeLow: false })).toThrow(/already used by relay/);
    expect(() => gpio.output('relay', 24)).toThrow('gpio relay is already open on line 23');
    relay.close();
    expect(gpio.output('relay', 23).read()).toBe(0);
  });
});

describe('SimGpio inputs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const withInput = (debounceMs = 30, activeLow = false) => {
    vi.useFakeTimers();
    const { gpio, log } = make();
    const input = gpio.input('confirm', 5, { debounceMs, activeLow });
    const changes: [Level, bigint][] = [];
    input.on('change', (level, atNs) => changes.push([level, atNs]));
    return { gpio, input, changes, log };
  };

  it('reports a press after debounceMs and swallows bounces shorter than that', () => {
    const { gpio, input, changes } = withInput(30);
    gpio.press('confirm', { holdMs: Infinity });
    vi.advanceTimersByTime(29);
    expect(changes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(changes.map(([level]) => level)).toEqual([1]);
    expect(input.read()).toBe(1);
    // A contact bounce: 0 for 10 ms, back to 1: no change reported.
    gpio.setInput('confirm', 0);
    vi.advanceTimersByTime(10);
    gpio.setInput('confirm', 1);
    vi.advanceTimersByTime(100);
    expect(changes.map(([level]) => level)).toEqual([1]);
    gpio.release('confirm');
    vi.advanceTimersByTime(30);
    expect(changes.map(([level]) => level)).toEqual([1, 0]);
    expect(typeof changes[0]![1]).toBe('bigint');
  });

  it('press() is a momentary press by default (released after debounceMs + 100), so repeated presses all count', () => {
    const { gpio, changes } = withInput(30);
    gpio.press('confirm');
    vi.advanceTimersByTime(1000);
    gpio.press('confirm');
    vi.advanceTimersByTime(1000);
    expect(changes.map(([level]) => level)).toEqual([1, 0, 1, 0]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('setInput() takes the physical level: an active-low button reads 1 when pulled to 0', () => {
    const { gpio, input, changes } = withInput(0, true);
    expect(input.read()).toBe(0);
    gpio.setInput('confirm', 0);
    expect(changes.map(([level]) => level)).toEqual([1]); // debounceMs 0: at once
    gpio.press('confirm', { holdMs: Infinity }); // already active: nothing new
    gpio.release('confirm');
    expect(changes.map(([level]) => level)).toEqual([1, 0]);
  });

  it('isolates a change listener that throws (it runs from a timer) and logs it', () => {
    const { gpio, input, changes, log } = withInput(30);
    input.prependListener('change', () => {
      throw new Error('listener bug');
    });
    gpio.press('confirm');
    vi.advanceTimersByTime(30);
    expect(changes).toHaveLength(1);
    expect(log.messages('gpio.listener-failed')).toHaveLength(1);
  });

  it('honours once() change listeners', () => {
    const { gpio, input } = withInput(0);
    const seen: Level[] = [];
    input.once('change', (level) => seen.push(level));
    gpio.setInput('confirm', 1);
    gpio.setInput('confirm', 0);
    expect(seen).toEqual([1]);
  });

  it('refuses helpers for an input that is not configured, and clears its timers on close', () => {
    const { gpio, input } = withInput(30);
    expect(() => gpio.press('reject')).toThrow('sim gpio has no "reject" input: it is not configured for this lane');
    gpio.press('confirm');
    expect(vi.getTimerCount()).toBe(2); // debounce + auto-release
    input.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

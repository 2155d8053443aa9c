import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Level } from '../../../hardware/gpio/gpio.js';
import { OnoffGpio } from '../../../hardware/gpio/onoffGpio.js';
import { resolveSysfsChip } from '../../../hardware/gpio/sysfsChip.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { FakeOnoffLine } from '../../fakes/fakeOnoff.js';
import { buildFakeSysfs, PI4_NEW_KERNEL } from '../../fakes/fakeSysfs.js';
import { useTempDir } from '../../helpers/tempDir.js';

describe('OnoffGpio (fake onoff Gpio on a fake sysfs tree)', () => {
  const tempDir = useTempDir('qrgate-onoff-');
  let gpio: OnoffGpio;
  let log: ReturnType<typeof captureLogger>;

  beforeEach(() => {
    FakeOnoffLine.lines = [];
    FakeOnoffLine.failNext = null;
    FakeOnoffLine.unexportOrder = [];
    const root = tempDir();
    buildFakeSysfs(root, [PI4_NEW_KERNEL]);
    log = captureLogger();
    gpio = new OnoffGpio(resolveSysfsChip('gpiochip0', root), { relay: true }, { logger: log.logger, Gpio: FakeOnoffLine });
  });

  afterEach(() => {
    gpio.closeAll();
  });

  it('exports outputs at base + offset, starting at the inactive physical level', () => {
    gpio.output('green', 17);
    gpio.output('relay', 23);
    const [green, relay] = FakeOnoffLine.lines;
    expect([green!.gpio, green!.direction, green!.options]).toEqual([529, 'low', { activeLow: false }]);
    // An active-low relay board: exported "high" (physically off), logical 0 written.
    expect([relay!.gpio, relay!.direction, relay!.options]).toEqual([535, 'high', { activeLow: true }]);
    expect(relay!.writes).toEqual([0]);
  });

  it('writes with writeSync, logs changes at debug, and drives 0 then unexports on close', () => {
    const relay = gpio.output('relay', 23);
    const line = FakeOnoffLine.lines[0]!;
    relay.write(1);
    relay.write(1);
    expect(relay.read()).toBe(1);
    expect(line.writes).toEqual([0, 1, 1]);
    expect(log.messages('gpio.set').map((l) => [l.output, l.value, l.level])).toEqual([['relay', 1, 20]]);
    relay.close();
    relay.close();
    expect(line.writes.at(-1)).toBe(0);
    expect(line.unexported).toBe(true);
    expect(() => relay.write(1)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('watches inputs with onoff debounce and activeLow, and passes on only real changes', () => {
    FakeOnoffLine.failNext = null;
    const passage = gpio.input('passage', 24, { debounceMs: 30, activeLow: true });
    const line = FakeOnoffLine.lines[0]!;
    expect([line.gpio, line.direction, line.edge, line.options]).toEqual([536, 'in', 'both', { debounceTimeout: 30, activeLow: true }]);
    const changes: Level[] = [];
    passage.on('change', (level, atNs) => {
      expect(typeof atNs).toBe('bigint');
      changes.push(level);
    });
    line.fire(1);
    line.fire(1); // onoff may report the same level twice after a glitch
    line.fire(0);
    line.fire(1, new Error('EIO'));
    expect(changes).toEqual([1, 0]);
    expect(passage.read()).toBe(0);
    expect(log.messages('gpio.watch-failed')).toHaveLength(1);
    passage.close();
    expect(line.watching).toBe(false);
    expect(line.unexported).toBe(true);
  });

  it('closeAll() closes outputs before inputs and keeps going past a line that fails', () => {
    gpio.input('confirm', 5, { debounceMs: 0, activeLow: false });
    const relay = gpio.output('relay', 23);
    const green = gpio.output('green', 17);
    relay.write(1);
    const relayLine = FakeOnoffLine.lines[1]!;
    relayLine.unexported = true; // its fd went bad underneath
    green.write(1);
    gpio.closeAll();
    expect(FakeOnoffLine.unexportOrder).toEqual([535, 529, 517]); // relay, green, then the input
    expect(FakeOnoffLine.lines[2]!.writes.at(-1)).toBe(0);
    expect(log.messages('gpio.close-failed')).toHaveLength(1);
  });

  it('explains an export that fails (permissions) with the sysfs number', () => {
    FakeOnoffLine.failNext = Object.assign(new Error("EACCES: permission denied, open '/sys/class/gpio/export'"), { code: 'EACCES' });
    expect(() => gpio.output('buzzer', 22)).toThrow(
      /cannot open GPIO buzzer \(gpiochip0 line 22 = sysfs gpio534\): EACCES.*is the user in the "gpio" group/,
    );
  });

  it('refuses a line beyond the chip before touching onoff', () => {
    expect(() => gpio.output('red', 99)).toThrow(expect.objectContaining({ code: 'GPIO_LINE_OUT_OF_RANGE' }));
    expect(FakeOnoffLine.lines).toHaveLength(0);
  });
});

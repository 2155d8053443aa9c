import { describe, expect, it } from 'vitest';
import { gpioConfigSchema } from '../../../hardware/gpio/config.js';
import { createGpio } from '../../../hardware/gpio/createGpio.js';
import { OnoffGpio } from '../../../hardware/gpio/onoffGpio.js';
import { SimGpio } from '../../../hardware/gpio/simGpio.js';
import { GpioUnavailableError } from '../../../hardware/gpio/sysfsChip.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { FakeOnoffLine } from '../../fakes/fakeOnoff.js';
import { buildFakeSysfs, PI4_NEW_KERNEL } from '../../fakes/fakeSysfs.js';
import { useTempDir } from '../../helpers/tempDir.js';

describe('gpioConfigSchema', () => {
  it('fills the defaults', () => {
    expect(gpioConfigSchema.parse({ type: 'sim' })).toEqual({ type: 'sim', chip: 'gpiochip0', outputs: {}, inputs: {}, inputDebounceMs: 30 });
  });

  it('parses the design example', () => {
    const config = gpioConfigSchema.parse({
      type: 'onoff',
      chip: 'gpiochip0',
      outputs: { green: 17, red: 27, buzzer: 22, relay: 23 },
      inputs: { confirm: 5, reject: 6, passage: 24 },
      activeLow: { relay: true, passage: true },
    });
    expect(config.outputs.relay).toBe(23);
    expect(config.activeLow).toEqual({ relay: true, passage: true });
  });

  it('refuses offsets outside 0..1023, unknown names and a line used twice, naming each field', () => {
    const result = gpioConfigSchema.safeParse({
      type: 'onoff',
      outputs: { green: 1024, relay: 5, horn: 3 },
      inputs: { confirm: 5 },
    });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues.some((i) => i.startsWith('outputs.green:'))).toBe(true);
    expect(issues.some((i) => i.includes('horn'))).toBe(true);
    const duplicate = gpioConfigSchema.safeParse({ type: 'sim', outputs: { relay: 5 }, inputs: { confirm: 5 } });
    expect(duplicate.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['inputs.confirm: line 5 is already used by relay']);
    expect(gpioConfigSchema.safeParse({ type: 'libgpiod' }).success).toBe(false);
  });

  it('names a line used twice even when other fields are bad too (found by fast-check)', () => {
    const result = gpioConfigSchema.safeParse({ type: 'onoff', chip: null, outputs: { relay: 5, red: 'x' }, inputs: { confirm: 5 } });
    const issues = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toContain('inputs.confirm: line 5 is already used by relay');
    expect(issues.some((i) => i.startsWith('chip:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('outputs.red:'))).toBe(true);
    for (const partial of [null, 'gpio', [], { type: 'sim', outputs: null, inputs: 7 }]) expect(gpioConfigSchema.safeParse(partial).success).toBe(false);
  });
});

describe('createGpio', () => {
  const tempDir = useTempDir('qrgate-gpio-');
  const logger = silentLogger();

  it('gives the sim twin for type sim', () => {
    expect(createGpio(gpioConfigSchema.parse({ type: 'sim' }), { logger })).toBeInstanceOf(SimGpio);
  });

  it('refuses to start onoff without /sys/class/gpio, with a message that says what to do', () => {
    const root = tempDir();
    const config = gpioConfigSchema.parse({ type: 'onoff', outputs: { relay: 23 } });
    expect(() => createGpio(config, { logger, sysfsRoot: root })).toThrow(GpioUnavailableError);
    expect(() => createGpio(config, { logger, sysfsRoot: root })).toThrow(/class\/gpio does not exist.*gpio\.type to "sim"/);
  });

  it('resolves the chip once and applies activeLow to outputs', () => {
    const root = tempDir();
    buildFakeSysfs(root, [PI4_NEW_KERNEL]);
    FakeOnoffLine.lines = [];
    const config = Object.freeze(gpioConfigSchema.parse({ type: 'onoff', outputs: { relay: 23, green: 17 }, activeLow: { relay: true } }));
    const gpio = createGpio(config, { logger, sysfsRoot: root, Gpio: FakeOnoffLine });
    expect(gpio).toBeInstanceOf(OnoffGpio);
    gpio.output('relay', 23);
    gpio.output('green', 17);
    expect(FakeOnoffLine.lines.map((l) => [l.gpio, l.direction, l.options])).toEqual([
      [535, 'high', { activeLow: true }],
      [529, 'low', { activeLow: false }],
    ]);
    gpio.closeAll();
  });
});

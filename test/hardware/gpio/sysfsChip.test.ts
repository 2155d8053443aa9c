import { describe, expect, it } from 'vitest';
import { GpioUnavailableError, listSysfsChips, resolveSysfsChip } from '../../../hardware/gpio/sysfsChip.js';
import { buildFakeSysfs, PI4_EXPANDER, PI4_NEW_KERNEL, PI4_OLD_KERNEL } from '../../fakes/fakeSysfs.js';
import { useTempDir } from '../../helpers/tempDir.js';

const thrown = (fn: () => unknown): GpioUnavailableError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof GpioUnavailableError) return err;
    throw err;
  }
  throw new Error('expected a GpioUnavailableError');
};

describe('resolveSysfsChip (on a fake sysfs tree)', () => {
  const tempDir = useTempDir('qrgate-sysfs-');

  it('resolves gpiochip0 at base 512 (kernel 6.6+): line 17 is sysfs 529', () => {
    const root = tempDir();
    buildFakeSysfs(root, [PI4_NEW_KERNEL, PI4_EXPANDER]);
    const chip = resolveSysfsChip('gpiochip0', root);
    expect(chip).toMatchObject({ sysfsName: 'gpiochip512', chipName: 'gpiochip0', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 });
    expect(chip.gpioNumber(17)).toBe(529);
    expect(resolveSysfsChip('gpiochip1', root).gpioNumber(2)).toBe(572);
  });

  it('resolves gpiochip0 at base 0 (older kernels, device link to the controller) through /sys/bus/gpio', () => {
    const root = tempDir();
    buildFakeSysfs(root, [PI4_OLD_KERNEL, { ...PI4_EXPANDER, base: 504, style: 'old' }]);
    expect(resolveSysfsChip('gpiochip0', root).gpioNumber(17)).toBe(17);
    expect(resolveSysfsChip('gpiochip1', root).gpioNumber(7)).toBe(511);
  });

  it('accepts the chip label instead of its name', () => {
    const root = tempDir();
    buildFakeSysfs(root, [PI4_NEW_KERNEL]);
    expect(resolveSysfsChip('pinctrl-bcm2711', root).gpioNumber(0)).toBe(512);
  });

  it('refuses a line offset outside the chip', () => {
    const root = tempDir();
    buildFakeSysfs(root, [PI4_NEW_KERNEL]);
    const chip = resolveSysfsChip('gpiochip0', root);
    expect(chip.gpioNumber(57)).toBe(569);
    const err = thrown(() => chip.gpioNumber(58));
    expect(err.code).toBe('GPIO_LINE_OUT_OF_RANGE');
    expect(err.message).toBe('line 58 is out of range for gpiochip0: it has 58 lines (0..57)');
    expect(thrown(() => chip.gpioNumber(-1)).code).toBe('GPIO_LINE_OUT_OF_RANGE');
  });

  it('refuses an unknown chip and lists the chips it found', () => {
    const root = tempDir();
    buildFakeSysfs(root, [PI4_NEW_KERNEL]);
    const err = thrown(() => resolveSysfsChip('gpiochip4', root));
    expect(err.code).toBe('GPIO_CHIP_UNKNOWN');
    expect(err.message).toContain('GPIO chip "gpiochip4" not found');
    expect(err.message).toContain('gpiochip0 (label "pinctrl-bcm2711", gpiochip512, base 512, 58 lines)');
  });

  it('fails with a clear message when /sys/class/gpio is absent, naming the path and the way out', () => {
    const root = tempDir();
    const err = thrown(() => resolveSysfsChip('gpiochip0', root));
    expect(err.code).toBe('GPIO_SYSFS_MISSING');
    expect(err.message).toContain(`${root}/class/gpio does not exist`);
    expect(err.message).toContain('gpio.type to "sim"');
    expect(err.message).toContain('kernel with sysfs GPIO');
  });

  it('lists every chip with its base and line count', () => {
    const root = tempDir();
    buildFakeSysfs(root, [PI4_NEW_KERNEL, PI4_EXPANDER]);
    expect(listSysfsChips(root).map((c) => [c.chipName, c.base, c.ngpio])).toEqual([
      ['gpiochip0', 512, 58],
      ['gpiochip1', 570, 8],
    ]);
  });
});

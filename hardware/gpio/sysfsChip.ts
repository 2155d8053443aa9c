import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Finds the sysfs GPIO number of a line (chip base + offset) for onoff, which drives the
 * legacy sysfs interface (Documentation/ABI/obsolete/sysfs-gpio). Since Linux 6.6 the
 * kernel allocates bases dynamically from 512, so "GPIO 17" is sysfs 529 on a current
 * Raspberry Pi OS and 17 on an old one: configs name a chip and an offset, never a number.
 *
 * Each `/sys/class/gpio/gpiochipN` (N = base) has `base`, `ngpio`, `label` and a `device`
 * link. Newer kernels parent it to the GPIO device itself (`.../gpiochip0`); older ones to
 * the controller (`.../fe200000.gpio`), whose child is `/sys/bus/gpio/devices/gpiochip0`.
 * A chip is matched by the first of: the `device` link's name, the controller under the
 * bus entry, the label.
 */

export type GpioErrorCode = 'GPIO_SYSFS_MISSING' | 'GPIO_CHIP_UNKNOWN' | 'GPIO_LINE_OUT_OF_RANGE';

export class GpioUnavailableError extends Error {
  constructor(
    readonly code: GpioErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GpioUnavailableError';
  }
}

export interface SysfsChip {
  /** The sysfs entry, `gpiochip<base>`. */
  readonly sysfsName: string;
  /** The chip's kernel name (`gpiochip0`), when the tree tells it. */
  readonly chipName: string | null;
  readonly label: string;
  readonly base: number;
  readonly ngpio: number;
}

const readText = (path: string): string => readFileSync(path, 'utf8').trim();
const realpathOrNull = (path: string): string | null => {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
};

/** Every chip under `<sysfsRoot>/class/gpio`; throws GPIO_SYSFS_MISSING without it. */
export function listSysfsChips(sysfsRoot = '/sys'): SysfsChip[] {
  const classDir = join(sysfsRoot, 'class', 'gpio');
  if (!existsSync(classDir)) {
    throw new GpioUnavailableError(
      'GPIO_SYSFS_MISSING',
      `GPIO is not available: ${classDir} does not exist (this kernel has no sysfs GPIO, CONFIG_GPIO_SYSFS, or this is not a Raspberry Pi). ` +
        'Set the lane\'s gpio.type to "sim" to run without GPIO, or use a kernel with sysfs GPIO.',
    );
  }
  const busDir = join(sysfsRoot, 'bus', 'gpio', 'devices');
  const chips: SysfsChip[] = [];
  for (const entry of readdirSync(classDir).filter((name) => /^gpiochip\d+$/.test(name)).sort()) {
    const dir = join(classDir, entry);
    const device = realpathOrNull(join(dir, 'device'));
    let chipName: string | null = null;
    if (device && /^gpiochip\d+$/.test(basename(device))) chipName = basename(device);
    else if (device && existsSync(busDir)) {
      // Older kernels: `device` is the controller; the bus lists the gpiochip devices below it.
      chipName = readdirSync(busDir).find((name) => dirname(realpathOrNull(join(busDir, name)) ?? '') === device) ?? null;
    }
    chips.push({
      sysfsName: entry,
      chipName,
      label: existsSync(join(dir, 'label')) ? readText(join(dir, 'label')) : '',
      base: Number.parseInt(readText(join(dir, 'base')), 10),
      ngpio: Number.parseInt(readText(join(dir, 'ngpio')), 10),
    });
  }
  return chips;
}

export interface ResolvedChip extends SysfsChip {
  /** The sysfs GPIO number of a line offset; throws GPIO_LINE_OUT_OF_RANGE. */
  gpioNumber(offset: number): number;
}

/** Resolves `chip` (a kernel name such as `gpiochip0`, or a label) under `sysfsRoot`. */
export function resolveSysfsChip(chip: string, sysfsRoot = '/sys'): ResolvedChip {
  const chips = listSysfsChips(sysfsRoot);
  const found = chips.find((c) => c.chipName === chip) ?? chips.find((c) => c.label === chip);
  if (!found) {
    const known = chips.map((c) => `${c.chipName ?? '?'} (label "${c.label}", ${c.sysfsName}, base ${c.base}, ${c.ngpio} lines)`);
    throw new GpioUnavailableError(
      'GPIO_CHIP_UNKNOWN',
      `GPIO chip "${chip}" not found under ${join(sysfsRoot, 'class', 'gpio')}; ${known.length ? `found: ${known.join('; ')}` : 'no chips are exported there'}`,
    );
  }
  return {
    ...found,
    gpioNumber(offset: number): number {
      if (!Number.isInteger(offset) || offset < 0 || offset >= found.ngpio) {
        throw new GpioUnavailableError(
          'GPIO_LINE_OUT_OF_RANGE',
          `line ${offset} is out of range for ${chip}: it has ${found.ngpio} lines (0..${found.ngpio - 1})`,
        );
      }
      return found.base + offset;
    },
  };
}

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FakeChip {
  /** The chip's kernel name, e.g. gpiochip0. */
  readonly chipName: string;
  readonly base: number;
  readonly ngpio: number;
  readonly label: string;
  /** The controller's platform device, e.g. fe200000.gpio. */
  readonly controller: string;
  /**
   * `new`: the class entry is parented to the gpiochip device (its `device` link names the
   * chip), as on current Raspberry Pi kernels. `old`: parented to the controller (the link
   * names the controller; only /sys/bus/gpio tells the chip's name).
   */
  readonly style: 'new' | 'old';
}

/** Builds a sysfs-shaped tree under `root` (class/gpio, bus/gpio/devices, devices/platform/soc). */
export function buildFakeSysfs(root: string, chips: readonly FakeChip[]): void {
  const classDir = join(root, 'class', 'gpio');
  const busDir = join(root, 'bus', 'gpio', 'devices');
  mkdirSync(classDir, { recursive: true });
  mkdirSync(busDir, { recursive: true });
  writeFileSync(join(classDir, 'export'), '');
  writeFileSync(join(classDir, 'unexport'), '');
  for (const chip of chips) {
    const controllerDir = join(root, 'devices', 'platform', 'soc', chip.controller);
    const gdevDir = join(controllerDir, chip.chipName);
    mkdirSync(gdevDir, { recursive: true });
    symlinkSync(gdevDir, join(busDir, chip.chipName));
    const entry = `gpiochip${chip.base}`;
    const parent = chip.style === 'new' ? gdevDir : controllerDir;
    const entryDir = join(parent, 'gpio', entry);
    mkdirSync(entryDir, { recursive: true });
    writeFileSync(join(entryDir, 'base'), `${chip.base}\n`);
    writeFileSync(join(entryDir, 'ngpio'), `${chip.ngpio}\n`);
    writeFileSync(join(entryDir, 'label'), `${chip.label}\n`);
    symlinkSync(parent, join(entryDir, 'device'));
    symlinkSync(entryDir, join(classDir, entry));
  }
}

export const PI4_OLD_KERNEL: FakeChip = { chipName: 'gpiochip0', base: 0, ngpio: 58, label: 'pinctrl-bcm2711', controller: 'fe200000.gpio', style: 'old' };
export const PI4_NEW_KERNEL: FakeChip = { ...PI4_OLD_KERNEL, base: 512, style: 'new' };
export const PI4_EXPANDER: FakeChip = { chipName: 'gpiochip1', base: 570, ngpio: 8, label: 'raspberrypi-exp-gpio', controller: 'soc:firmware:gpio', style: 'new' };

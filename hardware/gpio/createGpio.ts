import type { Logger } from 'pino';
import type { GpioConfig } from './config.js';
import type { GpioBackend } from './gpio.js';
import { OnoffGpio, type OnoffLineClass } from './onoffGpio.js';
import { SimGpio } from './simGpio.js';
import { resolveSysfsChip } from './sysfsChip.js';

export interface CreateGpioDeps {
  readonly logger: Logger;
  /** Where sysfs is mounted; default `/sys`. Tests point it at a fake tree. */
  readonly sysfsRoot?: string;
  /** onoff's `Gpio` class; tests inject a fake. */
  readonly Gpio?: OnoffLineClass;
}

/**
 * The one place a GPIO backend is chosen (STYLE.md habit 1). For onoff the chip is resolved
 * here, so a machine without sysfs GPIO refuses to start with a message that says why
 * (GpioUnavailableError) instead of failing on the first relay pulse.
 */
export function createGpio(config: GpioConfig, deps: CreateGpioDeps): GpioBackend {
  switch (config.type) {
    case 'sim':
      return new SimGpio({ logger: deps.logger });
    case 'onoff': {
      const chip = resolveSysfsChip(config.chip, deps.sysfsRoot);
      const activeLow = config.activeLow ?? {};
      const outputs = { green: activeLow.green, red: activeLow.red, buzzer: activeLow.buzzer, relay: activeLow.relay };
      return new OnoffGpio(chip, Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined)), {
        logger: deps.logger,
        ...(deps.Gpio ? { Gpio: deps.Gpio } : {}),
      });
    }
  }
}

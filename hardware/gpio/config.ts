import { z } from 'zod';

/**
 * A lane's GPIO (DESIGN.md "Terminal configuration"). Pins are LINE OFFSETS on `chip`, not
 * sysfs numbers: on newer Raspberry Pi kernels the sysfs number is the chip's base (512+)
 * plus the offset, and the onoff backend resolves it (STYLE.md "Known traps").
 */

const lineSchema = z.number().int().min(0).max(1023);

const OUTPUT_NAMES = ['green', 'red', 'buzzer', 'relay'] as const;
const INPUT_NAMES = ['confirm', 'reject', 'passage'] as const;

type LineName = (typeof OUTPUT_NAMES)[number] | (typeof INPUT_NAMES)[number];
const activeLowFields = Object.fromEntries(
  [...OUTPUT_NAMES, ...INPUT_NAMES].map((name) => [name, z.boolean().optional().describe(`true: \`${name}\` is active when low`)]),
) as Record<LineName, z.ZodOptional<z.ZodBoolean>>;

export const gpioConfigSchema = z
  .strictObject({
    type: z.enum(['onoff', 'sim']).describe("`onoff`: the Pi's GPIO lines; `sim`: simulated, each change logged as `gpio.set`"),
    chip: z.string().min(1).default('gpiochip0').describe("the chip's name as the kernel gives it (`gpiochip0`), or its label (`pinctrl-bcm2711`)"),
    outputs: z
      .strictObject({
        green: lineSchema.optional().describe('the green LED'),
        red: lineSchema.optional().describe('the red LED'),
        buzzer: lineSchema.optional().describe('the buzzer'),
        relay: lineSchema.optional().describe('the door or turnstile relay'),
      })
      .default({})
      .describe('output lines, as line offsets on `chip`; a missing one is not driven'),
    inputs: z
      .strictObject({
        confirm: lineSchema.optional().describe("the operator's confirm button"),
        reject: lineSchema.optional().describe("the operator's reject button"),
        passage: lineSchema.optional().describe("a passage sensor: a grant's event then records whether the person passed"),
      })
      .default({})
      .describe('input lines, as line offsets on `chip`'),
    activeLow: z
      .strictObject(activeLowFields)
      .optional()
      .describe('lines active when low: a relay board energised by a low pin, a button to ground'),
    inputDebounceMs: z.number().int().min(0).max(1000).default(30).describe('an input must hold a new level this long (ms) before it counts'),
  })
  // Runs even when other fields are bad, so one pass names every problem (found by
  // fast-check: a bad `chip` hid a line used twice). The value may be only partly valid
  // here, hence the defensive reads: only whole-number lines can clash.
  .superRefine(
    (config, ctx) => {
      const owner = new Map<number, string>();
      const check = (group: 'outputs' | 'inputs', name: string): void => {
        const lines: unknown = (config as Partial<typeof config> | null)?.[group];
        const line = lines !== null && typeof lines === 'object' ? (lines as Record<string, unknown>)[name] : undefined;
        if (!Number.isInteger(line)) return;
        const other = owner.get(line as number);
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', path: [group, name], message: `line ${String(line)} is already used by ${other}` });
        }
        owner.set(line as number, name);
      };
      for (const name of OUTPUT_NAMES) check('outputs', name);
      for (const name of INPUT_NAMES) check('inputs', name);
    },
    { when: () => true },
  );

export type GpioConfig = z.output<typeof gpioConfigSchema>;
export type GpioConfigInput = z.input<typeof gpioConfigSchema>;

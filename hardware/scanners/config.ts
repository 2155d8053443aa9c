import { z } from 'zod';

/**
 * A lane's scanner (DESIGN.md "Terminal configuration": `scanner.type` serial | hid | stdin
 * | sim). Strict objects: a misspelt field is reported, not silently ignored.
 */

const suffixSchema = z.enum(['\r', '\n', '\r\n', '']).describe('what the module appends to each scan');

/** A USB id: a number, or a hex string as lsusb prints it ("1eab" or "0x1eab"). */
const usbIdSchema = z.union([
  z.number().int().min(0).max(0xffff),
  z
    .string()
    .regex(/^(0x)?[0-9a-f]{1,4}$/i, 'a number or a hex string such as "0x1eab"')
    .transform((s) => Number.parseInt(s.replace(/^0x/i, ''), 16)),
]);

const maxFrameBytesSchema = z.number().int().min(16).max(65_536).default(1024).describe('the longest accepted scan in bytes; a longer one is refused as malformed');

export const serialScannerConfigSchema = z.strictObject({
  type: z.literal('serial').describe('a scanner on a serial port or USB virtual COM (recommended)'),
  path: z.string().min(1).describe('the device, e.g. `/dev/qrgate-scanner-in` (a udev name, docs/deploy-raspberry-pi.md)'),
  baudRate: z.number().int().min(50).max(4_000_000).default(9600).describe("the module's baud rate"),
  suffix: suffixSchema.default('\r\n'),
  maxFrameBytes: maxFrameBytesSchema,
  interByteTimeoutMs: z.number().int().min(1).max(10_000).default(50).describe('ms; with suffix "" a frame ends after this gap, otherwise a partial this old is dropped'),
  reopenDelayMs: z.number().int().min(10).max(60_000).default(1000).describe('ms before the first reopen of a device that went away; doubles per failure, capped'),
});

export const hidScannerConfigSchema = z.strictObject({
  type: z.literal('hid').describe('a USB HID scanner, read from its HID reports (never as a console keyboard)'),
  vendorId: usbIdSchema.describe('USB vendor id: a number, or hex as lsusb prints it, e.g. `"0x1eab"`'),
  productId: usbIdSchema.describe('USB product id, e.g. `"0x0d10"`'),
  path: z.string().min(1).optional().describe('the hidraw device path, when several devices share the ids'),
  mode: z.enum(['keyboard', 'pos']).default('keyboard').describe('`keyboard`: the module sends key reports; `pos`: HID POS reports'),
  maxFrameBytes: maxFrameBytesSchema,
});

export const stdinScannerConfigSchema = z.strictObject({
  type: z.literal('stdin').describe("QR text typed or piped on the terminal's stdin, one per line; a bare ID number counts as typed"),
});

export const simScannerConfigSchema = z.strictObject({
  type: z.literal('sim').describe('simulated, fed only from inside the process (tests, the demo)'),
  suffix: suffixSchema.default('\r\n'),
});

export const scannerConfigSchema = z.discriminatedUnion('type', [
  serialScannerConfigSchema,
  hidScannerConfigSchema,
  stdinScannerConfigSchema,
  simScannerConfigSchema,
]);

export type ScannerConfig = z.output<typeof scannerConfigSchema>;
export type ScannerConfigInput = z.input<typeof scannerConfigSchema>;

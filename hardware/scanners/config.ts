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

const maxFrameBytesSchema = z.number().int().min(16).max(65_536).default(1024);

export const serialScannerConfigSchema = z.strictObject({
  type: z.literal('serial'),
  path: z.string().min(1),
  baudRate: z.number().int().min(50).max(4_000_000).default(9600),
  suffix: suffixSchema.default('\r\n'),
  maxFrameBytes: maxFrameBytesSchema,
  /** ms; with suffix "" a frame ends after this gap, otherwise a partial this old is dropped. */
  interByteTimeoutMs: z.number().int().min(1).max(10_000).default(50),
  /** ms before the first reopen of a device that went away; doubles per failure, capped. */
  reopenDelayMs: z.number().int().min(10).max(60_000).default(1000),
});

export const hidScannerConfigSchema = z.strictObject({
  type: z.literal('hid'),
  vendorId: usbIdSchema,
  productId: usbIdSchema,
  path: z.string().min(1).optional(),
  mode: z.enum(['keyboard', 'pos']).default('keyboard'),
  maxFrameBytes: maxFrameBytesSchema,
});

export const stdinScannerConfigSchema = z.strictObject({
  type: z.literal('stdin'),
});

export const simScannerConfigSchema = z.strictObject({
  type: z.literal('sim'),
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

import { z } from 'zod';

/**
 * The signed list file, shared by snapshots and deltas. JSON would be ~100 bytes an entry;
 * this is 33 to 41, so a 1,000,000-entry list is ~33 MB and verifies with one Ed25519 call.
 *
 *   offset  size  field
 *   0       4     magic "QGL1"
 *   4       4     header length H, u32 big-endian (at most maxHeaderBytes)
 *   8       H     header, UTF-8 JSON (listHeaderSchema)
 *   8+H     ...   `count` entries:
 *                   32  credential ref
 *                    1  bits 0-1 status (0 allow, 1 deny, 2 check, 3 remove: deltas only)
 *                       bit 2: validFrom follows; bit 3: validUntil follows;
 *                       bit 4 (format 2 only, deny only): revoked, the card was reissued or
 *                       reported lost, so a gate can say so; bits 5-7 zero
 *                   [4] validFrom, u32 BE Unix seconds (inclusive)
 *                   [4] validUntil, u32 BE Unix seconds (exclusive)
 *   end-72  8     key id of the signing key (keyId() in protocol/keys.ts)
 *   end-64  64    Ed25519 signature over every byte before the key id
 *
 * The key id sits outside the signature: it only picks which trusted key to try, and a
 * forged one fails that key's verification.
 *
 * `format` in the header versions the entry bits. A writer uses the lowest format that holds
 * its entries (1 unless an entry is revoked), so a terminal that reads only format 1 keeps
 * taking lists until the first revocation; a reader takes every format up to its own.
 */

export const listMagic = Buffer.from('QGL1', 'ascii');
/** The formats this code reads; it writes the lowest one that holds a list's entries. */
export const listFormats = [1, 2] as const;
export type ListFormat = (typeof listFormats)[number];
export const maxHeaderBytes = 64 * 1024;
export const prefixBytes = listMagic.length + 4;
export const keyIdBytes = 8;
export const signatureBytes = 64;
export const trailerBytes = keyIdBytes + signatureBytes;
export const refBytes = 32;
export const entryBaseBytes = refBytes + 1;

/**
 * An entry's status. The first four are the wire's status codes in order; `revoked` is deny
 * with the revoked bit, a status of its own so every layer above the wire (the terminal's
 * lists, the decision, the central's published copy) tells it apart without another field.
 */
export const listStatuses = ['allow', 'deny', 'check', 'remove', 'revoked'] as const;
export type ListStatus = (typeof listStatuses)[number];
export const statusMask = 0b0000_0011;
export const hasValidFrom = 0b0000_0100;
export const hasValidUntil = 0b0000_1000;
export const revokedBit = 0b0001_0000;
/** Bits a reader of that format refuses: a flag it does not know could change a decision. */
export const reservedBitsOf: Record<ListFormat, number> = { 1: 0b1111_0000, 2: 0b1110_0000 };

/** Times on the wire are whole seconds in a u32: up to 2106-02-07. */
export const maxWireSeconds = 0xffff_ffff;

/** Same rule as a terminal's configured scopes: a scope becomes an MQTT topic level. */
export const listScopeSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" and "-" only, 1 to 64 characters');

const versionSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const listHeaderSchema = z
  .strictObject({
    format: z.union(listFormats.map((f) => z.literal(f))),
    kind: z.enum(['snapshot', 'delta']),
    scope: listScopeSchema,
    version: versionSchema,
    /** Deltas only: the version this delta applies on top of. */
    baseVersion: versionSchema.optional(),
    issuedAt: z.iso.datetime(),
    /** Past this the terminal treats the list as stale (policy `onStaleList`). */
    expiresAt: z.iso.datetime(),
    count: z.number().int().min(0).max(0xffff_ffff),
  })
  .superRefine((header, ctx) => {
    if (header.kind === 'delta' && header.baseVersion === undefined) {
      ctx.addIssue({ code: 'custom', path: ['baseVersion'], message: 'a delta needs baseVersion' });
    }
    if (header.kind === 'snapshot' && header.baseVersion !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['baseVersion'], message: 'a snapshot has no baseVersion' });
    }
    if (header.baseVersion !== undefined && header.baseVersion >= header.version) {
      ctx.addIssue({ code: 'custom', path: ['baseVersion'], message: 'baseVersion must be below version' });
    }
    if (Date.parse(header.expiresAt) <= Date.parse(header.issuedAt)) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'expiresAt must be after issuedAt' });
    }
  });

export type ListHeader = z.infer<typeof listHeaderSchema>;
/** What the list builder supplies; format and count are filled in by the encoder. */
export type ListHeaderInput = Omit<ListHeader, 'format' | 'count'>;

/**
 * One entry. Times are Unix milliseconds; the wire holds seconds, and the encoder rounds
 * validFrom up and validUntil down so a window never grows.
 */
export interface ListEntry {
  readonly ref: Buffer;
  readonly status: ListStatus;
  readonly validFrom?: number;
  readonly validUntil?: number;
}

import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { brokerUrlSchema } from './brokerUrl.js';
import { checkpointCodeSchema } from './checkpointCode.js';
import { listScopeSchema } from './lists/index.js';

/**
 * Enrollment by QR (issue 5, docs/enrollment.md). A technician prints or shows a QR made by
 * `qrgate terminals enroll-qr`; a fresh terminal reads it with its own scanner, connects to
 * the central the QR names and receives its identity over that one MQTT connection.
 *
 * The QR text is `QGE1.` + base64url(body JSON) + `.` + base64url(Ed25519 signature), signed
 * by the deployment's list authority key. Base64url keeps it to characters every scanner
 * module sends unchanged (no `+`, `/` or `=` to be remapped by a keyboard layout), and the
 * signature covers the encoded body as read, so no JSON canonicalisation is needed.
 *
 * A fresh terminal holds no key, so it cannot judge the signature itself: the central does
 * (forged, wrong deployment, expired, replayed), and the terminal then checks that the
 * authority key it was handed is the one the QR names and did sign it.
 */

export const enrollmentQrPrefix = 'QGE1.';

/** What an enrollment client uses as its MQTT username: not a valid terminal id (gateway/config.ts), so it can never be one. */
export const enrollUsername = '$enroll';

/** `enroll-` and 32 hex digits chosen by the device: names its topics and tells its retries apart from another device's. */
export const enrollClientIdPattern = /^enroll-[0-9a-f]{32}$/;

const base64urlPattern = /^[A-Za-z0-9_-]+$/;

export const enrollmentBodySchema = z.strictObject({
  v: z.literal(1),
  /** keyId (protocol/keys.ts) of the deployment's list authority key: which deployment the QR belongs to. */
  deployment: z.string().regex(/^[0-9a-f]{16}$/),
  /** The central's broker as the terminal reaches it. */
  url: brokerUrlSchema,
  checkpoint: checkpointCodeSchema,
  /** 128 random bits, base64url: the single-use secret the central holds a hash of. */
  token: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  /** Seconds since the epoch, by the central's clock: a terminal's clock may be years off at first boot. */
  expiresAt: z.number().int().positive(),
});
export type EnrollmentBody = z.infer<typeof enrollmentBodySchema>;

export interface EnrollmentQr {
  /** As scanned: the device logs in with it. */
  readonly text: string;
  readonly body: EnrollmentBody;
  /** The bytes the signature covers. */
  readonly signed: Buffer;
  readonly signature: Buffer;
}

/** Keeps QR signatures from ever verifying as a list or a manifest signature, and the reverse. */
const signaturePrefix = Buffer.from('qrgate enrollment v1\n');

/** Longest QR text accepted; a real one is about 300 characters. */
export const maxEnrollmentQrLength = 1024;

export function looksLikeEnrollmentQr(text: string): boolean {
  return text.startsWith(enrollmentQrPrefix);
}

export function signEnrollmentQr(body: EnrollmentBody, authorityKey: KeyObject): string {
  const encoded = Buffer.from(JSON.stringify(enrollmentBodySchema.parse(body))).toString('base64url');
  const signature = sign(null, Buffer.concat([signaturePrefix, Buffer.from(encoded)]), authorityKey);
  return `${enrollmentQrPrefix}${encoded}.${signature.toString('base64url')}`;
}

/** Node's base64 decoder skips what it cannot read: only the one canonical spelling counts. */
function decodeCanonical(text: string): Buffer | null {
  if (!base64urlPattern.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

export type ParsedEnrollmentQr = { readonly ok: true; readonly qr: EnrollmentQr } | { readonly ok: false; readonly detail: string };

/** The structure only, no signature check. The detail never repeats the text: it holds a one-time token. */
export function parseEnrollmentQr(text: string): ParsedEnrollmentQr {
  if (!looksLikeEnrollmentQr(text)) return { ok: false, detail: `not an enrollment QR (no ${enrollmentQrPrefix} prefix)` };
  if (text.length > maxEnrollmentQrLength) return { ok: false, detail: `longer than ${maxEnrollmentQrLength} characters` };
  const parts = text.slice(enrollmentQrPrefix.length).split('.');
  if (parts.length !== 2) return { ok: false, detail: 'expected two dot-separated parts after the prefix' };
  const [encoded, encodedSignature] = parts as [string, string];
  const bodyBytes = decodeCanonical(encoded);
  const signature = decodeCanonical(encodedSignature);
  if (bodyBytes === null || signature === null) return { ok: false, detail: 'not canonical base64url' };
  if (signature.length !== 64) return { ok: false, detail: 'the signature is not 64 bytes' };
  let json: unknown;
  try {
    json = JSON.parse(bodyBytes.toString('utf8'));
  } catch {
    return { ok: false, detail: 'the body is not JSON' };
  }
  const body = enrollmentBodySchema.safeParse(json);
  if (!body.success) return { ok: false, detail: `the body is invalid at ${body.error.issues.map((i) => i.path.join('.') || '(top)').join(', ')}` };
  return { ok: true, qr: { text, body: body.data, signed: Buffer.concat([signaturePrefix, Buffer.from(encoded)]), signature } };
}

export function verifyEnrollmentQr(qr: EnrollmentQr, authorityPublicKey: KeyObject): boolean {
  return verify(null, qr.signed, authorityPublicKey, qr.signature);
}

/** Why the central refused an enrollment; each has its own signal at the terminal (gateway/enroll/enrollSignals.ts). */
export const enrollRefusalReasons = ['wrong-deployment', 'forged', 'expired', 'replayed', 'checkpoint-retired', 'unavailable'] as const;
export type EnrollRefusalReason = (typeof enrollRefusalReasons)[number];

/** `qrgate/v1/enroll/{clientId}/request`, device -> central, QoS 1: "enroll me with the QR I logged in with". */
export const enrollRequestSchema = z.strictObject({ v: z.literal(1) });

/** `qrgate/v1/enroll/{clientId}/result`, central -> device, QoS 1, never retained. */
export const enrollResultSchema = z.discriminatedUnion('ok', [
  z.strictObject({
    v: z.literal(1),
    ok: z.literal(true),
    terminalId: z.string().min(1).max(64),
    /** The terminal's MQTT password, sent once; the central keeps only its scrypt hash. */
    secret: z.string().min(16).max(1024),
    checkpoint: z.strictObject({ code: checkpointCodeSchema, name: z.string().min(1).max(200), confirm: z.enum(['auto', 'manual']) }),
    lists: z.array(listScopeSchema).min(1),
    /** The list authority's public key, PEM (SPKI). */
    authorityPub: z.string().min(1).max(4096),
    /** The deployment's 32-byte ref key, base64. */
    refKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
  }),
  z.strictObject({ v: z.literal(1), ok: z.literal(false), reason: z.enum(enrollRefusalReasons), message: z.string().max(500) }),
]);
export type EnrollResult = z.infer<typeof enrollResultSchema>;

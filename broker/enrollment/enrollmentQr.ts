import { randomBytes } from 'node:crypto';
import { extname, resolve } from 'node:path';
import type { z } from 'zod';
import type { CentralConfig } from '../config.js';
import type { CentralStore } from '../store/centralStore.js';
import { brokerUrlSchema } from '../../protocol/brokerUrl.js';
import { signEnrollmentQr } from '../../protocol/enrollment.js';
import { keyId, loadAuthorityPrivateKey } from '../../protocol/keys.js';
import { listScopeSchema } from '../../protocol/lists/index.js';
import { tokenHash } from '../../protocol/tokenHash.js';
import { openCheckpoint, TerminalProvisioningError, writeSecretFile } from '../registry/terminalProvisioning.js';

/**
 * `qrgate terminals enroll-qr`: a signed, single-use, short-lived QR that a fresh terminal
 * scans to enroll itself (docs/enrollment.md). The central keeps only the token's hash; the
 * image is written mode 0600, because until it is used or expires it is a key to the fleet.
 */

export interface EnrollmentQrRequest {
  readonly config: CentralConfig;
  readonly store: Pick<CentralStore, 'getCheckpoint' | 'createEnrollmentToken'>;
  readonly checkpointCode: string;
  /** The broker as terminals reach it, `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string;
  /** Default `["default"]`, as `terminals add`. */
  readonly lists?: readonly string[];
  /** How long the QR stays usable, seconds. Default 900 (15 minutes). */
  readonly ttlS?: number;
  readonly nowMs?: () => number;
  /** How refusals name the inputs: the CLI's options by default; the API passes its body's field names. */
  readonly inputNames?: { readonly url: string; readonly lists: string; readonly ttl: string };
}

const optionNames = { url: '--url', lists: '--lists', ttl: '--ttl' } as const;

export interface EnrollmentQrOptions extends EnrollmentQrRequest {
  /** `.png` or `.svg`. */
  readonly outFile: string;
}

export interface EnrollmentQrMade {
  /** The exact text the QR encodes. */
  readonly payload: string;
  readonly file: string;
  readonly checkpointCode: string;
  readonly expiresAt: string;
  readonly lists: readonly string[];
}

export type QrImageFormat = 'png' | 'svg';

export interface EnrollmentQrImage extends Omit<EnrollmentQrMade, 'file'> {
  readonly format: QrImageFormat;
  /** PNG bytes, or the SVG document's text. */
  readonly image: Buffer | string;
}

export const defaultEnrollTtlS = 900;
export const maxEnrollTtlS = 7 * 24 * 3600;

async function renderQr(payload: string, format: QrImageFormat): Promise<Buffer | string> {
  // Level M survives a crease or a glare spot; a phone screen shown to the scanner is the usual case.
  const options = { errorCorrectionLevel: 'M', margin: 4 } as const;
  // Loaded on first use: the central's start (and so a restart's first login) does not wait for it.
  const { toBuffer: qrPng, toString: qrString } = await import('qrcode');
  return format === 'png' ? qrPng(payload, { ...options, type: 'png', width: 512 }) : qrString(payload, { ...options, type: 'svg' });
}

function formatOfFile(file: string): QrImageFormat {
  const extension = extname(file).toLowerCase();
  if (extension === '.png' || extension === '.svg') return extension === '.png' ? 'png' : 'svg';
  throw new TerminalProvisioningError('invalid-config', `--out ${file}: the image must end in .png or .svg`);
}

function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new TerminalProvisioningError('invalid-config', `${what}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** A checked, signed QR text whose token the central does not know yet: `register` makes it usable. */
interface SignedEnrollment {
  readonly payload: string;
  readonly checkpointCode: string;
  readonly expiresAt: string;
  readonly lists: readonly string[];
  register(): Promise<void>;
}

async function signEnrollment(options: EnrollmentQrRequest): Promise<SignedEnrollment> {
  const { store } = options;
  const names = options.inputNames ?? optionNames;
  const url = checked(brokerUrlSchema, options.url, `${names.url} ${options.url}`);
  const lists = (options.lists ?? ['default']).map((scope) => checked(listScopeSchema, scope, `${names.lists} "${scope}"`));
  const ttlS = options.ttlS ?? defaultEnrollTtlS;
  if (!Number.isInteger(ttlS) || ttlS < 1 || ttlS > maxEnrollTtlS) {
    throw new TerminalProvisioningError('invalid-config', `${names.ttl} must be a whole number of seconds from 1 to ${maxEnrollTtlS}`);
  }
  const checkpoint = await openCheckpoint(store, options.checkpointCode);
  const authorityKey = loadAuthorityPrivateKey(options.config.keys.authorityKey);
  const token = randomBytes(16).toString('base64url');
  const expiresAt = Math.floor(((options.nowMs ?? Date.now)() + ttlS * 1000) / 1000);
  const payload = signEnrollmentQr({ v: 1, deployment: keyId(authorityKey), url, checkpoint: checkpoint.code, token, expiresAt }, authorityKey);
  return {
    payload,
    checkpointCode: checkpoint.code,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
    lists,
    register: () => store.createEnrollmentToken({ tokenHash: tokenHash(token), checkpointCode: checkpoint.code, listScopes: lists, expiresAtMs: expiresAt * 1000 }),
  };
}

/** The QR as an image file (`terminals enroll-qr --out`). */
export async function makeEnrollmentQr(options: EnrollmentQrOptions): Promise<EnrollmentQrMade> {
  const { register, ...signed } = await signEnrollment(options);
  const file = resolve(options.outFile);
  const image = await renderQr(signed.payload, formatOfFile(file));
  // The image appears only once the central knows the token, and never for a token it does not.
  await writeSecretFile(file, image, register);
  return { ...signed, file };
}

/**
 * The QR as bytes, for the API to answer (`POST /api/terminals/enroll-qr`): the token is
 * registered before the image leaves, as the file variant renames its file only then.
 */
export async function makeEnrollmentQrImage(options: EnrollmentQrRequest & { readonly format: QrImageFormat }): Promise<EnrollmentQrImage> {
  const { register, ...signed } = await signEnrollment(options);
  const image = await renderQr(signed.payload, options.format);
  await register();
  return { ...signed, format: options.format, image };
}

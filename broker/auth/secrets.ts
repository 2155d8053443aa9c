import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Secrets as the store keeps them: never in clear, so a copy of the central's database
 * does not let anyone log in. Two formats, told apart by their first field:
 *
 * - `hmac-sha256$salt$hash` for terminal secrets: HMAC-SHA256 keyed with a per-secret salt.
 *   A terminal's secret is 192 random bits from `generateSecret`, not a human password:
 *   nobody can enumerate 2^192 candidates against a stolen hash, so stretching buys no
 *   safety, and it cost ~50 ms of CPU per login, minutes of CPU when a restarted central
 *   takes back ten thousand terminals (issue 15). This costs microseconds.
 * - `scrypt$N$r$p$salt$hash` for people's passwords (broker/access/passwords.ts), which may
 *   hold 40 bits and need a memory-hard KDF; also what terminal secrets were hashed with
 *   before, which keep working (`terminals rotate-secret` moves one to the fast format).
 *   The parameters travel with each hash: raising them later leaves old hashes verifiable.
 *
 * Salt and hash are base64.
 */

const saltBytes = 16;
const hashBytes = 32;
/** Bytes of randomness in a new secret: 192 bits, well above the 128 the design asks for. */
const secretBytes = 24;

/**
 * Refuse absurd parameters from a stored hash before computing: a tampered or corrupt row
 * must not make one CONNECT allocate gigabytes (scrypt memory is 128 * N * r * p bytes).
 */
const maxN = 1 << 20;
const maxRp = 64;

export class SecretHashError extends Error {
  readonly code = 'secret-hash-malformed';
  constructor(message: string) {
    super(message);
    this.name = 'SecretHashError';
  }
}

function scrypt(secret: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(secret, salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function scryptOptions(N: number, r: number, p: number): ScryptOptions {
  // Node refuses anything needing more than `maxmem` (default 32 MiB); size it to the job.
  return { N, r, p, maxmem: 256 * N * r * p };
}

function hmac(secret: string, salt: Buffer): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}

/** A new random terminal secret, URL-safe so it survives JSON, shells and QR codes. */
export function generateSecret(): string {
  return randomBytes(secretBytes).toString('base64url');
}

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** A terminal's secret (from `generateSecret`), hashed for the store: fast, see the top of this file. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(saltBytes);
  return ['hmac-sha256', salt.toString('base64'), hmac(secret, salt).toString('base64')].join('$');
}

/** A person's password, stretched with scrypt at `params` (broker/access/passwords.ts). */
export async function hashScrypt(secret: string, params: ScryptParams): Promise<string> {
  const { N, r, p } = params;
  const salt = randomBytes(saltBytes);
  const hash = await scrypt(secret, salt, hashBytes, scryptOptions(N, r, p));
  return ['scrypt', N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export type ParsedHash =
  | { readonly kind: 'hmac-sha256'; readonly salt: Buffer; readonly hash: Buffer }
  | { readonly kind: 'scrypt'; readonly N: number; readonly r: number; readonly p: number; readonly salt: Buffer; readonly hash: Buffer };

const base64 = /^[A-Za-z0-9+/]+={0,2}$/;

function saltAndHash(parts: readonly string[]): { salt: Buffer; hash: Buffer } {
  const [salt, hash] = parts.map((part) => {
    if (!base64.test(part)) throw new SecretHashError('salt and hash must be base64');
    return Buffer.from(part, 'base64');
  }) as [Buffer, Buffer];
  if (salt.length < 8 || hash.length < 16) throw new SecretHashError('salt or hash too short');
  return { salt, hash };
}

export function parseSecretHash(stored: string): ParsedHash {
  const parts = stored.split('$');
  if (parts[0] === 'hmac-sha256') {
    if (parts.length !== 3) throw new SecretHashError('not a hmac-sha256$salt$hash string');
    return { kind: 'hmac-sha256', ...saltAndHash(parts.slice(1)) };
  }
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new SecretHashError('neither a hmac-sha256$salt$hash nor a scrypt$N$r$p$salt$hash string');
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^\d{1,8}$/.test(part) ? Number(part) : Number.NaN)) as [number, number, number];
  if (!(N >= 2 && N <= maxN && (N & (N - 1)) === 0)) throw new SecretHashError('N must be a power of two up to 2^20');
  if (!(r >= 1 && r <= maxRp && p >= 1 && p <= maxRp)) throw new SecretHashError(`r and p must be 1..${maxRp}`);
  return { kind: 'scrypt', N, r, p, ...saltAndHash(parts.slice(4)) };
}

/** True when `secret` matches `stored`, in either format. Constant-time on the hash comparison. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parsed = parseSecretHash(stored);
  const candidate =
    parsed.kind === 'hmac-sha256' ? hmac(secret, parsed.salt) : await scrypt(secret, parsed.salt, parsed.hash.length, scryptOptions(parsed.N, parsed.r, parsed.p));
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

/**
 * The same work as a real check, for a username nobody has: without it an unknown
 * terminal id answers measurably faster than a wrong password, and ids could be probed.
 */
let decoy: Promise<string> | undefined;
export async function verifyAgainstDecoy(secret: string): Promise<false> {
  decoy ??= hashSecret(generateSecret());
  await verifySecret(secret, await decoy);
  return false;
}

import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Terminal secrets. The store keeps only `scrypt$N$r$p$salt$hash` (salt and hash in
 * base64), so a copy of the central's database does not let anyone log in as a terminal.
 * The parameters travel with each hash: raising them later leaves old hashes verifiable.
 */

/** 2^14 with r = 8 is 16 MiB and a few tens of ms per check: a reconnect storm stays affordable. */
export const scryptParams = { N: 16_384, r: 8, p: 1 } as const;
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

/** A new random terminal secret, URL-safe so it survives JSON, shells and QR codes. */
export function generateSecret(): string {
  return randomBytes(secretBytes).toString('base64url');
}

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** `params` travel with the hash, so people's passwords can cost more than machine secrets (broker/access/passwords.ts). */
export async function hashSecret(secret: string, params: ScryptParams = scryptParams): Promise<string> {
  const { N, r, p } = params;
  const salt = randomBytes(saltBytes);
  const hash = await scrypt(secret, salt, hashBytes, scryptOptions(N, r, p));
  return ['scrypt', N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

interface ParsedHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const base64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parseSecretHash(stored: string): ParsedHash {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new SecretHashError('not a scrypt$N$r$p$salt$hash string');
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^\d{1,8}$/.test(part) ? Number(part) : Number.NaN)) as [number, number, number];
  if (!(N >= 2 && N <= maxN && (N & (N - 1)) === 0)) throw new SecretHashError('N must be a power of two up to 2^20');
  if (!(r >= 1 && r <= maxRp && p >= 1 && p <= maxRp)) throw new SecretHashError(`r and p must be 1..${maxRp}`);
  const [salt, hash] = parts.slice(4).map((part) => {
    if (!base64.test(part)) throw new SecretHashError('salt and hash must be base64');
    return Buffer.from(part, 'base64');
  }) as [Buffer, Buffer];
  if (salt.length < 8 || hash.length < 16) throw new SecretHashError('salt or hash too short');
  return { N, r, p, salt, hash };
}

/** True when `secret` matches `stored`. Constant-time on the hash comparison. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const { N, r, p, salt, hash } = parseSecretHash(stored);
  const candidate = await scrypt(secret, salt, hash.length, scryptOptions(N, r, p));
  return timingSafeEqual(candidate, hash);
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

import { randomBytes } from 'node:crypto';
import { hashScrypt, verifySecret, type ScryptParams } from '../auth/secrets.js';

/**
 * People's passwords. A terminal's secret has 192 random bits and needs no stretching to
 * resist guessing; a person's password may have 40, so it gets a memory-hard KDF with a
 * higher cost: scrypt N = 2^15, r = 8, p = 1 (32 MiB; 0.2–0.25 s a check measured on the
 * 2-core build machine under load; a central, not a terminal, pays it), the
 * OWASP Password Storage minimum for scrypt. The parameters travel with each hash
 * (`scrypt$N$r$p$salt$hash`), so raising them later leaves old hashes verifiable.
 */
export const passwordScryptParams: ScryptParams = { N: 32_768, r: 8, p: 1 };

/** NIST SP 800-63B asks for at least 8; a console guarding people's data gets 12. */
export const minPasswordLength = 12;
export const maxPasswordLength = 256;

export class PasswordError extends Error {
  readonly code = 'password-weak';
  constructor(message: string) {
    super(message);
    this.name = 'PasswordError';
  }
}

/** Refuses a password too short or too long; says why without repeating it. */
export function checkPassword(password: string): string {
  const length = [...password].length;
  if (length < minPasswordLength) throw new PasswordError(`the password has ${length} characters; at least ${minPasswordLength} are needed`);
  if (length > maxPasswordLength) throw new PasswordError(`the password is longer than ${maxPasswordLength} characters`);
  if (password.trim() !== password) throw new PasswordError('the password begins or ends with a space; a copy and paste would lose it');
  return password;
}

/** 120 random bits in 20 URL-safe characters: shown once, typed rarely, pasted mostly. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}

export function hashPassword(password: string): Promise<string> {
  return hashScrypt(checkPassword(password), passwordScryptParams);
}

let decoy: Promise<string> | undefined;

/** With no stored hash (unknown user) the same work is done, so usernames cannot be probed by timing. */
export async function verifyPassword(password: string, storedHash: string | null): Promise<boolean> {
  if (storedHash !== null) return verifySecret(password, storedHash);
  decoy ??= hashScrypt(generatePassword(), passwordScryptParams);
  await verifySecret(password, await decoy);
  return false;
}

import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A password hash in Mosquitto 2.x's own password-file format, as `mosquitto_passwd`
 * writes it: `$7$iterations$salt$hash`, PBKDF2-HMAC-SHA512 over the password with the
 * base64-decoded salt, 12 bytes of salt, 64 bytes of hash, both base64. 101 iterations is
 * `mosquitto_passwd`'s own default (2.0.11 here): what we hash is a terminal's 192-bit
 * random secret, not a human password, so the iterations buy nothing and Mosquitto pays
 * them at every CONNECT (see broker/auth/secrets.ts for the same reasoning).
 * test/broker/mosquitto/passwordHash.test.ts checks a line written by the machine's
 * `mosquitto_passwd` verifies here, and the broker test logs in with ours.
 */

const saltBytes = 12;
const hashBytes = 64;
export const mosquittoIterations = 101;

function derive(password: string, salt: Buffer, iterations: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, length, 'sha512', (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function mosquittoPasswordHash(password: string, iterations = mosquittoIterations): Promise<string> {
  const salt = randomBytes(saltBytes);
  const hash = await derive(password, salt, iterations, hashBytes);
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

const hashPattern = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** Whether `hash` is a `$7$` hash Mosquitto reads (the ledger refuses to carry anything else into a password file). */
export function isMosquittoHash(hash: string): boolean {
  const match = hashPattern.exec(hash);
  return match !== null && Number(match[1]) >= 1;
}

/** True when `password` matches a `$7$` hash; false for a wrong password or another format. */
export async function verifyMosquittoHash(password: string, hash: string): Promise<boolean> {
  const match = hashPattern.exec(hash);
  if (match === null) return false;
  const [, iterations, salt, expected] = match as unknown as [string, string, string, string];
  const want = Buffer.from(expected, 'base64');
  const got = await derive(password, Buffer.from(salt, 'base64'), Number(iterations), want.length);
  return timingSafeEqual(got, want);
}

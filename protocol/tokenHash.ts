import { createHash } from 'node:crypto';

/**
 * How a bearer secret (an API token, an enrollment QR's token) is stored and looked up:
 * its SHA-256 in hex, so a copy of the database does not hand out working secrets.
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

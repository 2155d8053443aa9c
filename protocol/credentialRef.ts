import { createHmac, createSecretKey } from 'node:crypto';
import type { CredentialNamespace } from './credentials/types.js';

/**
 * Credential ref = HMAC-SHA-256(ref key, namespace + ":" + normalised id) (DESIGN.md
 * "Credentials"). Lists and events hold refs, never ID numbers. The key matters: without
 * it, the 10^12 possible CCCD numbers could be hashed in an afternoon and every ref undone.
 */

export const refKeyLength = 32;
export const refLength = 32;

export type RefHasher = (namespace: CredentialNamespace, id: string) => Buffer;

export function createRefHasher(refKey: Buffer): RefHasher {
  if (refKey.length !== refKeyLength) {
    throw new RangeError(`ref key must be ${refKeyLength} bytes, got ${refKey.length}`);
  }
  // One KeyObject for the process: the key bytes are copied once, not per scan.
  const key = createSecretKey(refKey);
  return (namespace, id) => createHmac('sha256', key).update(`${namespace}:${id}`, 'utf8').digest();
}

export function refToHex(ref: Buffer): string {
  return ref.toString('hex');
}

/**
 * Crockford base32 (https://www.crockford.com/base32.html): digits and uppercase letters
 * without I, L, O and U. Every character is in the QR alphanumeric set (ISO/IEC 18004
 * §7.4.4), so a card QR encodes at 5.5 bits per character instead of 8.
 */

export const crockfordAlphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const valueOf = new Map<string, number>();
for (let i = 0; i < crockfordAlphabet.length; i++) valueOf.set(crockfordAlphabet[i]!, i);
// Crockford's decoding rule: letters people confuse with digits read as those digits.
valueOf.set('O', 0);
valueOf.set('I', 1);
valueOf.set('L', 1);

/** Big-endian base32 of `bytes`, `length` characters, most significant character first. */
export function encodeCrockford(bytes: Uint8Array, length: number): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let out = '';
  for (let i = 0; i < length; i++) {
    out = crockfordAlphabet[Number(value & 31n)]! + out;
    value >>= 5n;
  }
  return out;
}

/**
 * The canonical spelling of `text` (uppercase, O -> 0, I/L -> 1), or null when a character
 * is not base32 at all.
 */
export function canonicalCrockford(text: string): string | null {
  let out = '';
  for (const char of text.toUpperCase()) {
    const value = valueOf.get(char);
    if (value === undefined) return null;
    out += crockfordAlphabet[value];
  }
  return out;
}

export function crockfordValue(char: string): number | undefined {
  return valueOf.get(char.toUpperCase());
}

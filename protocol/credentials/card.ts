import { createHash, randomBytes } from 'node:crypto';
import { canonicalCrockford, crockfordValue, encodeCrockford } from './crockford.js';
import { accept, refuse, type ParseResult } from './types.js';

/**
 * The qrgate card QR: `QG1:` + 26-character id + 6-character check, 36 characters, e.g.
 * `QG1:0HDKM1XDBYPCAQMTSWJBBSE9AXA7DD5V`.
 *
 * - Only QR alphanumeric-mode characters, so it fits a version 2 QR (25x25) at error
 *   correction M and prints small on a card.
 * - `QG1:` names the format and its version; a later format gets `QG2:` and an old terminal
 *   refuses it by name instead of misreading it.
 * - The id is 128 random bits in Crockford base32 (26 characters, the first 0-7): unguessable,
 *   so nobody makes a working card by counting.
 * - The check is 30 bits of SHA-256 over prefix + id. It is not a secret (anyone can compute
 *   it); it stops a damaged read, a typo or a hand-made QR before any lookup, 1 in 10^9
 *   passing by chance.
 */

export const cardQrPrefix = 'QG1:';
export const cardIdLength = 26;
const checkLength = 6;
const idBytes = 16;

export type CardIdResult = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly detail: string };

function checkValue(id: string): string {
  const digest = createHash('sha256').update(cardQrPrefix + id, 'ascii').digest();
  return encodeCrockford(digest.subarray(0, 4), checkLength);
}

/** A new card id, canonical (26 uppercase Crockford base32 characters). */
export function generateCardId(random: (size: number) => Buffer = randomBytes): string {
  return encodeCrockford(random(idBytes), cardIdLength);
}

/**
 * A card id in its canonical spelling, from the id alone (as printed or typed: case and
 * Crockford's O/I/L aliases are forgiven). No check value here, so only the shape is checked.
 */
export function parseCardId(text: string): CardIdResult {
  if (text.length !== cardIdLength) return { ok: false, detail: `card id has ${text.length} characters, expected ${cardIdLength}` };
  const id = canonicalCrockford(text);
  if (id === null) return { ok: false, detail: 'card id has a character outside Crockford base32' };
  // 26 characters hold 130 bits; a 128-bit id leaves the top two bits zero.
  if (crockfordValue(id[0]!)! > 7) return { ok: false, detail: 'card id is out of range (first character above 7)' };
  return { ok: true, id };
}

/** The text to print as the card's QR. Throws on an id that generateCardId could not have made. */
export function formatCardQr(id: string): string {
  const parsed = parseCardId(id);
  if (!parsed.ok) throw new RangeError(`formatCardQr: ${parsed.detail}`);
  return cardQrPrefix + parsed.id + checkValue(parsed.id);
}

/** The card number as printed: the 26-character id in groups of four, read out easily over the phone. */
export function groupCardNumber(cardId: string): string {
  return cardId.match(/.{1,4}/g)?.join(' ') ?? cardId;
}

/** Any `QG<digits>:` text is meant as a qrgate card, whichever version. */
export function looksLikeCardQr(text: string): boolean {
  return /^QG\d+:/i.test(text);
}

/** The card id from a full card QR text, or why it is refused. */
export function parseCardQrId(text: string): CardIdResult {
  // Case is forgiven: a keyboard-wedge scanner with Caps Lock on types the QR in lowercase.
  const upper = text.toUpperCase();
  const version = /^QG(\d+):/.exec(upper);
  if (!version) return { ok: false, detail: 'not a qrgate card QR (no QG1: prefix)' };
  if (version[0] !== cardQrPrefix) {
    // The digits come from the scan and the detail is logged: `QG046199001234:` would put a
    // CCCD number in the log. A real version number is short; anything longer is not named.
    const named = version[1]!.length <= 3 ? ` ${version[1]}` : '';
    return { ok: false, detail: `card QR format version${named} is not supported, only 1` };
  }
  const body = upper.slice(cardQrPrefix.length);
  if (body.length !== cardIdLength + checkLength) {
    return { ok: false, detail: `card QR has ${body.length} characters after the prefix, expected ${cardIdLength + checkLength}` };
  }
  const id = parseCardId(body.slice(0, cardIdLength));
  if (!id.ok) return id;
  const check = canonicalCrockford(body.slice(cardIdLength));
  if (check === null) return { ok: false, detail: 'card QR check value has a character outside Crockford base32' };
  if (check !== checkValue(id.id)) return { ok: false, detail: 'card QR fails its check value: misread, mistyped or not made by qrgate' };
  return id;
}

export function parseCardQr(text: string): ParseResult {
  const id = parseCardQrId(text);
  return id.ok ? accept('card', 'card', id.id) : refuse(id.detail);
}

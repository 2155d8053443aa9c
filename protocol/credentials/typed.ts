import { accept, refuse, type ParseResult } from './types.js';

/**
 * An ID number typed by an operator: a 9-digit CMND or a 12-digit CCCD number. Operators
 * group digits the way the card prints them, so spaces and dashes are dropped. Only the
 * operator's keyboard may send this: from a scanner, bare digits are a partial read.
 */

export type CitizenIdResult = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly detail: string };

export function normaliseCitizenId(text: string): CitizenIdResult {
  const digits = text.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits)) return { ok: false, detail: 'ID number has characters other than digits, spaces and dashes' };
  if (digits.length !== 9 && digits.length !== 12) {
    return { ok: false, detail: `ID number has ${digits.length} digits, expected 9 (CMND) or 12 (CCCD)` };
  }
  return { ok: true, id: digits };
}

export function looksTyped(text: string): boolean {
  return /^[\d\s-]+$/.test(text) && /\d/.test(text);
}

export function parseTypedId(text: string): ParseResult {
  const id = normaliseCitizenId(text);
  return id.ok ? accept('typed', 'citizen', id.id) : refuse(`typed ${id.detail}`);
}

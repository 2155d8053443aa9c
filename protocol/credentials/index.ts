import { looksLikeCardQr, parseCardQr } from './card.js';
import { parseCccdFields } from './cccd.js';
import { looksLikeIsoDate } from './dates.js';
import { parsePcCovidFields } from './pcCovid.js';
import { cleanCredentialText } from './text.js';
import { looksTyped, parseTypedId } from './typed.js';
import { refuse, type ParseResult } from './types.js';

export type { Credential, CredentialNamespace, CredentialType, ParseResult, RefusalReason } from './types.js';
export { credentialNamespaces } from './types.js';
export { normaliseCredentialId } from './ids.js';
export { formatCardQr, generateCardId } from './card.js';
export { maxCredentialLength } from './text.js';

export interface ParseOptions {
  /** The text came from an operator's keyboard, not a scanner: bare ID numbers are accepted. */
  readonly typed: boolean;
}

/**
 * Reads one scanned or typed credential. Anything not recognised is refused as `malformed`
 * before any lookup (DESIGN.md "Credentials"). Pure: no IO, no clock.
 */
export function parseCredential(input: string, options: ParseOptions): ParseResult {
  const clean = cleanCredentialText(input);
  if (!clean.ok) return refuse(clean.detail);
  const { text } = clean;

  if (looksLikeCardQr(text)) return parseCardQr(text);
  if (text.includes('|')) {
    const fields = text.split('|');
    // Both PC-Covid and the short CCCD have 6 fields; PC-Covid writes field 3 as yyyy-mm-dd.
    if (fields.length === 6 && looksLikeIsoDate(fields[2]!)) return parsePcCovidFields(fields);
    if (fields.length === 6 || fields.length === 7) return parseCccdFields(fields);
    return refuse(`QR has ${fields.length} "|"-separated fields, expected 6 (CCCD or PC-Covid) or 7 (CCCD)`);
  }
  if (looksTyped(text)) {
    return options.typed ? parseTypedId(text) : refuse('bare digits from a scanner: a partial read or a barcode, not a credential');
  }
  return refuse(`unrecognised credential format (${text.length} characters)`);
}

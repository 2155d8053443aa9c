import { looksLikeCardQr, parseCardId, parseCardQrId } from './card.js';
import { isAppId } from './pcCovid.js';
import { normaliseCitizenId } from './typed.js';
import type { CredentialNamespace } from './types.js';

export type NormalisedId = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly detail: string };

/**
 * A registered identifier (from a list-entries file, a registration form) normalised
 * exactly as the scan parsers normalise what they read, so both give the same ref.
 * `detail` never contains the identifier.
 */
export function normaliseCredentialId(namespace: CredentialNamespace, raw: string): NormalisedId {
  const text = raw.trim();
  switch (namespace) {
    case 'citizen':
      return normaliseCitizenId(text);
    case 'card':
      // Accept the full QR text too: an issuer's export may hold what was printed.
      return looksLikeCardQr(text) ? parseCardQrId(text) : parseCardId(text);
    case 'app':
      return isAppId(text) ? { ok: true, id: text } : { ok: false, detail: 'app id must be 4 to 64 letters, digits or "-"' };
  }
}

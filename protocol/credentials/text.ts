/**
 * The clean-up every credential gets before a format parser sees it: a frame may carry the
 * scanner's CR/LF suffix and stray spaces, and the same Vietnamese letter can arrive
 * precomposed or as base letter + combining marks, depending on who made the QR.
 */

/** Longest credential text accepted. A CCCD QR is ~150 characters; a card QR 36. */
export const maxCredentialLength = 1024;

export type CleanText = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly detail: string };

// C0 controls, DEL and C1 controls. A scanner never sends these inside a QR we support, and
// a field separator smuggled in as a control character must not shift the fields.
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

export function cleanCredentialText(input: string): CleanText {
  // Bound the work before trimming a pasted novel; trimming cannot shorten it below the limit by much.
  if (input.length > maxCredentialLength * 2) return { ok: false, detail: `input is ${input.length} characters, limit ${maxCredentialLength}` };
  const text = input.trim().normalize('NFC');
  if (text.length === 0) return { ok: false, detail: 'input is empty' };
  if (text.length > maxCredentialLength) return { ok: false, detail: `input is ${text.length} characters, limit ${maxCredentialLength}` };
  const control = text.search(controlCharacter);
  if (control >= 0) return { ok: false, detail: `input has a control character at position ${control + 1}` };
  return { ok: true, text };
}

/**
 * Report sequences as real scanners send them, written independently of the decoders
 * (their tables are not reused here, so a wrong entry shows up as a failing test).
 */

export type Report = number[];

export const LSHIFT = 0x02;
export const LALT = 0x04;
export const RSHIFT = 0x20;
export const ENTER = 0x28;
export const RELEASE: Report = [0, 0, 0, 0, 0, 0, 0, 0];

/** A boot keyboard report: modifiers, reserved, up to six keys. */
export function kb(modifiers: number, ...keys: number[]): Report {
  const report = [modifiers, 0, ...keys];
  while (report.length < 8) report.push(0);
  return report;
}

const US_KEYS: Record<string, [number, boolean]> = {
  ' ': [0x2c, false], '-': [0x2d, false], _: [0x2d, true], '=': [0x2e, false], '+': [0x2e, true],
  '[': [0x2f, false], '{': [0x2f, true], ']': [0x30, false], '}': [0x30, true],
  '\\': [0x31, false], '|': [0x31, true], ';': [0x33, false], ':': [0x33, true],
  "'": [0x34, false], '"': [0x34, true], '`': [0x35, false], '~': [0x35, true],
  ',': [0x36, false], '<': [0x36, true], '.': [0x37, false], '>': [0x37, true], '/': [0x38, false], '?': [0x38, true],
  '!': [0x1e, true], '@': [0x1f, true], '#': [0x20, true], $: [0x21, true], '%': [0x22, true],
  '^': [0x23, true], '&': [0x24, true], '*': [0x25, true], '(': [0x26, true], ')': [0x27, true],
  '0': [0x27, false],
};

function usKey(char: string): [number, boolean] | null {
  const c = char.charCodeAt(0);
  if (char.length !== 1) return null;
  if (c >= 0x61 && c <= 0x7a) return [0x04 + c - 0x61, false];
  if (c >= 0x41 && c <= 0x5a) return [0x04 + c - 0x41, true];
  if (c >= 0x31 && c <= 0x39) return [0x1e + c - 0x31, false];
  return US_KEYS[char] ?? null;
}

const KEYPAD: Record<string, number> = { '1': 0x59, '2': 0x5a, '3': 0x5b, '4': 0x5c, '5': 0x5d, '6': 0x5e, '7': 0x5f, '8': 0x60, '9': 0x61, '0': 0x62 };

/** Alt held, keypad digits pressed and released, Alt released: one Alt-code character. */
export function altCode(digits: string, altModifier = LALT): Report[] {
  const reports: Report[] = [kb(altModifier)];
  for (const d of digits) reports.push(kb(altModifier, KEYPAD[d]!), kb(altModifier));
  reports.push(RELEASE);
  return reports;
}

/** What a keyboard-wedge scanner in "Unicode Alt code" mode sends for `text`, then Enter. */
export function keyboardReportsFor(text: string, options: { enter?: boolean } = {}): Report[] {
  const reports: Report[] = [];
  for (const char of text) {
    const key = usKey(char);
    if (key) reports.push(kb(key[1] ? LSHIFT : 0, key[0]), RELEASE);
    else reports.push(...altCode(String(char.codePointAt(0))));
  }
  if (options.enter ?? true) reports.push(kb(0, ENTER), RELEASE);
  return reports;
}

/**
 * HID-POS scanned-data reports (report ID 2, 64 bytes) for `data`, split at `cuts` and at
 * most 56 bytes per report, the continuation bit set on all but the last.
 */
export function posReportsFor(data: Uint8Array, options: { cuts?: readonly number[]; symbology?: string; withReportId?: boolean } = {}): Report[] {
  const bounds = [...new Set([0, ...(options.cuts ?? []).filter((c) => c > 0 && c < data.length), data.length])].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    for (let at = bounds[i]!; at < bounds[i + 1]!; at += 56) pieces.push(data.subarray(at, Math.min(at + 56, bounds[i + 1]!)));
  }
  if (pieces.length === 0) pieces.push(new Uint8Array(0));
  const symbology = [...Buffer.from(options.symbology ?? ']Q1', 'latin1')];
  return pieces.map((piece, i) => {
    const body = new Array<number>(63).fill(0);
    body[0] = piece.length;
    body.splice(1, 3, ...symbology);
    piece.forEach((b, j) => (body[4 + j] = b));
    body[62] = i < pieces.length - 1 ? 1 : 0;
    return options.withReportId === false ? body : [0x02, ...body];
  });
}

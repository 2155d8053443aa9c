import type { FrameProblem } from '../scanner.js';

/**
 * Decoder for USB HID boot keyboard reports (HID 1.11, Appendix B.1): byte 0 modifier bits,
 * byte 1 reserved, bytes 2..7 the usage IDs (HID Usage Tables, page 0x07) of the keys down.
 * A keyboard-wedge QR scanner "types" the code on a US layout and ends it with Enter.
 *
 * - A key counts on the report where it first appears, not while it stays down (key
 *   repeat, rollover: `[a]`, `[a, b]`, `[b]` is "ab"); releases produce nothing.
 * - Alt held + keypad digits, character on Alt release: the Windows Alt-code convention
 *   scanners fall back on for characters a US layout cannot type (Vietnamese diacritics).
 *   The digits are the Unicode code point (the scanners' "Unicode Alt" output; `Alt+0ddd`
 *   is the same for Latin-1), except 128..159, which only Windows-1252 gives a meaning
 *   (`Alt+0128` = €). Windows itself reads `Alt+ddd` below 256 in the OEM code page 437;
 *   we do not, because a scanner typing Vietnamese sends code points (ô = Alt+244).
 * - Anything else that is not text (F-keys, arrows, Alt+letter, Ctrl+letter, a bad Alt
 *   code) becomes U+FFFD and the frame goes on: the ID at its start is what matters.
 */

export interface DecodedFrame {
  readonly text: string;
  /** UTF-8 length of the decoded text (as typed, even if cut off by `too-long`). */
  readonly byteLength: number;
  readonly problem?: FrameProblem;
}

const REPLACEMENT = '\uFFFD';
const MOD_CTRL = 0x01 | 0x10;
const MOD_SHIFT = 0x02 | 0x20;
const MOD_ALT = 0x04 | 0x40;
const KEY_ERROR_ROLLOVER = 0x01;
const KEY_ENTER = 0x28;
const KEY_KP_ENTER = 0x58;
const KEY_TAB = 0x2b;

/** US layout: usage ID -> [unshifted, shifted]. */
const US: ReadonlyMap<number, readonly [string, string]> = (() => {
  const map = new Map<number, readonly [string, string]>();
  for (let i = 0; i < 26; i++) map.set(0x04 + i, [String.fromCharCode(0x61 + i), String.fromCharCode(0x41 + i)]);
  const digits = '1234567890';
  const shifted = '!@#$%^&*()';
  for (let i = 0; i < 10; i++) map.set(0x1e + i, [digits[i]!, shifted[i]!]);
  const punctuation: [number, string, string][] = [
    [0x2c, ' ', ' '],
    [0x2d, '-', '_'],
    [0x2e, '=', '+'],
    [0x2f, '[', '{'],
    [0x30, ']', '}'],
    [0x31, '\\', '|'],
    // "Non-US # and ~": the Usage Tables' footnote gives `\ |` as its US mapping.
    [0x32, '\\', '|'],
    [0x33, ';', ':'],
    [0x34, "'", '"'],
    [0x35, '`', '~'],
    [0x36, ',', '<'],
    [0x37, '.', '>'],
    [0x38, '/', '?'],
    // Keypad (scanners send NumLock-on keypad codes for digits in some modes).
    [0x54, '/', '/'],
    [0x55, '*', '*'],
    [0x56, '-', '-'],
    [0x57, '+', '+'],
    [0x63, '.', '.'],
  ];
  for (const [usage, plain, shift] of punctuation) map.set(usage, [plain, shift]);
  for (let i = 0; i < 9; i++) map.set(0x59 + i, [String(i + 1), String(i + 1)]);
  map.set(0x62, ['0', '0']);
  return map;
})();

/** Keys that type nothing and are not worth a U+FFFD: locks, modifiers reported as keys, POST/undefined codes. */
const SILENT = new Set([0x00, 0x02, 0x03, 0x39, 0x47, 0x53, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7]);

const keypadDigit = (usage: number): string | null => {
  if (usage >= 0x59 && usage <= 0x61) return String(usage - 0x58);
  return usage === 0x62 ? '0' : null;
};

// Windows-1252, 0x80..0x9F. Not TextDecoder('windows-1252'): Node since 20.18.3 decodes
// that label as plain Latin-1 (nodejs/node#56542, #60888). U+FFFD marks its five holes.
const CP1252_C1 = '€\uFFFD‚ƒ„…†‡ˆ‰Š‹Œ\uFFFDŽ\uFFFD\uFFFD‘’“”•–—˜™š›œ\uFFFDžŸ';

/** The character an Alt+keypad sequence types (see the module comment); U+FFFD if none. */
export function altCodeToChar(digits: string): string {
  if (!/^\d{1,7}$/.test(digits)) return REPLACEMENT;
  const value = Number.parseInt(digits, 10);
  if (value < 0x20 || value === 0x7f) return REPLACEMENT;
  // C1 controls are never text: 0x80..0x9F can only mean Windows-1252 (Alt+0128 = €).
  if (value >= 0x80 && value < 0xa0) return CP1252_C1[value - 0x80]!;
  const scalar = value <= 0x10ffff && (value < 0xd800 || value > 0xdfff);
  return scalar ? String.fromCodePoint(value) : REPLACEMENT;
}

export interface KeyboardReportDecoderOptions {
  /** Longest frame in UTF-8 bytes; longer is `too-long` and its text is dropped. Default 1024. */
  readonly maxFrameBytes?: number;
}

export class KeyboardReportDecoder {
  private previousKeys = new Set<number>();
  private previousModifiers = 0;
  private altDigits: string | null = null;
  private text = '';
  private byteLength = 0;
  private hasControl = false;
  private ignored = 0;

  constructor(private readonly options: KeyboardReportDecoderOptions = {}) {}

  /** True while a frame has started and has not ended with Enter. */
  get pending(): boolean {
    return this.byteLength > 0 || this.altDigits !== null;
  }

  /** Reports that were not 8 bytes (9 with a report ID) and were skipped. */
  get ignoredReports(): number {
    return this.ignored;
  }

  /** Feeds one report; returns the frames it completed (usually none, one on Enter). */
  push(report: Uint8Array): DecodedFrame[] {
    // 9 bytes: node-hid prefixes a report ID when the device numbers its reports.
    const r = report.length === 9 ? report.subarray(1) : report;
    if (r.length !== 8) {
      this.ignored++;
      return [];
    }
    const modifiers = r[0]!;
    const keys = [...r.subarray(2)].filter((k) => k !== 0);
    // ErrorRollOver in every slot: too many keys down, the report carries no key state.
    if (keys.includes(KEY_ERROR_ROLLOVER)) return [];

    const frames: DecodedFrame[] = [];
    if (this.previousModifiers & MOD_ALT && !(modifiers & MOD_ALT) && this.altDigits !== null) {
      this.append(altCodeToChar(this.altDigits));
      this.altDigits = null;
    }
    for (const key of keys) {
      if (this.previousKeys.has(key)) continue;
      const frame = this.press(key, modifiers);
      if (frame) frames.push(frame);
    }
    this.previousKeys = new Set(keys);
    this.previousModifiers = modifiers;
    return frames;
  }

  /** Drops a partial frame (idle timeout) but keeps the key state: a key may still be down. */
  discardPartial(): void {
    this.altDigits = null;
    this.text = '';
    this.byteLength = 0;
    this.hasControl = false;
  }

  /** Forgets everything (device reopened). */
  reset(): void {
    this.discardPartial();
    this.previousKeys = new Set();
    this.previousModifiers = 0;
  }

  private press(key: number, modifiers: number): DecodedFrame | null {
    if (key === KEY_ENTER || key === KEY_KP_ENTER) return this.endFrame();
    if (SILENT.has(key)) return null;
    if (modifiers & MOD_ALT) {
      const digit = keypadDigit(key);
      if (digit !== null) this.altDigits = (this.altDigits ?? '') + digit;
      else this.append(REPLACEMENT); // Alt+letter: a menu shortcut, not text
      return null;
    }
    if (key === KEY_TAB) {
      this.append('\t');
      return null;
    }
    const chars = US.get(key);
    if (!chars || modifiers & MOD_CTRL) {
      this.append(REPLACEMENT);
      return null;
    }
    this.append(modifiers & MOD_SHIFT ? chars[1] : chars[0]);
    return null;
  }

  private append(char: string): void {
    if (char === '\t') this.hasControl = true;
    this.byteLength += Buffer.byteLength(char, 'utf8');
    // Bounded: past the limit only the length is counted.
    if (this.byteLength <= (this.options.maxFrameBytes ?? 1024)) this.text += char;
  }

  private endFrame(): DecodedFrame | null {
    const { text, byteLength, hasControl } = this;
    this.discardPartial();
    if (byteLength === 0) return null;
    if (byteLength > (this.options.maxFrameBytes ?? 1024)) return { text: '', byteLength, problem: 'too-long' };
    return hasControl ? { text, byteLength, problem: 'control-bytes' } : { text, byteLength };
  }
}

import { describe, expect, it } from 'vitest';
import { altCodeToChar, KeyboardReportDecoder, type DecodedFrame } from '../../../hardware/scanners/hid/keyboardReport.js';
import { altCode, ENTER, kb, keyboardReportsFor, LALT, LSHIFT, RELEASE, RSHIFT, type Report } from '../../fakes/hidReports.js';

const decode = (reports: readonly Report[], maxFrameBytes?: number): DecodedFrame[] => {
  const decoder = new KeyboardReportDecoder(maxFrameBytes === undefined ? {} : { maxFrameBytes });
  return reports.flatMap((r) => decoder.push(Uint8Array.from(r)));
};
const texts = (reports: readonly Report[]): string[] => decode(reports).map((f) => f.text);

describe('KeyboardReportDecoder (recorded boot keyboard reports)', () => {
  it('decodes letters, digits and shifted characters ("|" and uppercase), left and right shift', () => {
    const reports: Report[] = [
      [0x02, 0, 0x04, 0, 0, 0, 0, 0], // Shift+a -> A
      RELEASE,
      [0x00, 0, 0x05, 0, 0, 0, 0, 0], // b
      RELEASE,
      [0x20, 0, 0x31, 0, 0, 0, 0, 0], // RightShift+\ -> |
      RELEASE,
      [0x00, 0, 0x1e, 0, 0, 0, 0, 0], // 1
      RELEASE,
      [0x00, 0, 0x27, 0, 0, 0, 0, 0], // 0
      RELEASE,
      [0x02, 0, 0x33, 0, 0, 0, 0, 0], // :
      RELEASE,
      [0x00, 0, 0x38, 0, 0, 0, 0, 0], // /
      RELEASE,
      [0x00, 0, 0x37, 0, 0, 0, 0, 0], // .
      RELEASE,
      [0x00, 0, 0x2d, 0, 0, 0, 0, 0], // -
      RELEASE,
      [0x00, 0, 0x2c, 0, 0, 0, 0, 0], // space
      RELEASE,
      [0x00, 0, ENTER, 0, 0, 0, 0, 0],
      RELEASE,
    ];
    expect(decode(reports)).toEqual([{ text: 'Ab|10:/.- ', byteLength: 10 }]);
  });

  it('decodes a CCCD-like string with | separators', () => {
    const cccd = '046090001234|123456789|NGUYEN VAN AN|01011990|Nam|THON PHU MY, HUE|15082021';
    expect(texts(keyboardReportsFor(cccd))).toEqual([cccd]);
  });

  it('counts a key where it first appears, not while held (repeat, rollover), and ignores releases', () => {
    const reports: Report[] = [
      kb(0, 0x04), // a down
      kb(0, 0x04), // still down (repeat report)
      kb(0, 0x04, 0x05), // b down while a is held (rollover)
      kb(0, 0x05), // a released
      kb(0, 0x05, 0x04), // a again
      RELEASE,
      kb(0, 0x04), // a, a third time after a full release
      RELEASE,
      kb(0, ENTER),
      kb(0, ENTER), // Enter held: still one frame
      RELEASE,
    ];
    expect(texts(reports)).toEqual(['abaa']);
  });

  it('types the same key twice when it is released in between', () => {
    expect(texts([kb(0, 0x1e), RELEASE, kb(0, 0x1e), RELEASE, kb(0, ENTER), RELEASE])).toEqual(['11']);
  });

  it('applies shift per report: a shift pressed with the key, or held over several keys', () => {
    const reports: Report[] = [kb(LSHIFT), kb(LSHIFT, 0x0b), kb(LSHIFT), kb(LSHIFT, 0x08), kb(0), kb(0, 0x0f), RELEASE, kb(RSHIFT, 0x31), RELEASE, kb(0, ENTER), RELEASE];
    expect(texts(reports)).toEqual(['HEl|']);
  });

  it('ends a frame on Enter or keypad Enter; an Enter on its own makes no frame', () => {
    expect(texts([kb(0, ENTER), RELEASE, kb(0, 0x04), RELEASE, kb(0, 0x58), RELEASE, kb(0, 0x58), RELEASE])).toEqual(['a']);
  });

  it('ignores ErrorRollOver reports (phantom state) without losing key state', () => {
    const reports: Report[] = [kb(0, 0x04), kb(0, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01), kb(0, 0x04), RELEASE, kb(0, ENTER), RELEASE];
    expect(texts(reports)).toEqual(['a']);
  });

  it('decodes Alt+numpad Unicode codes, so Vietnamese names survive', () => {
    const name = 'Nguyễn Thị Hương Ữ';
    const reports = [...keyboardReportsFor(`046090001234|${name}|01011990`)];
    expect(texts(reports)).toEqual([`046090001234|${name}|01011990`]);
    // ữ (U+1EEF) typed as Alt + keypad 7 9 1 9, the character coming on Alt release:
    expect(texts([...altCode('7919'), kb(0, ENTER), RELEASE])).toEqual(['ữ']);
  });

  it('reads the digits as a code point, with or without a leading 0, with either Alt key', () => {
    expect(texts([...altCode('0233'), ...altCode('233', 0x40), ...altCode('244'), ...altCode('0128'), ...altCode('7921'), kb(0, ENTER)])).toEqual(['ééô€ự']);
  });

  it('turns what it cannot decode into U+FFFD and keeps the rest of the frame (the ID survives)', () => {
    const reports: Report[] = [
      ...keyboardReportsFor('046090001234|', { enter: false }),
      kb(0, 0x3a), // F1
      RELEASE,
      kb(LALT, 0x04), // Alt+a: a menu shortcut
      RELEASE,
      kb(0x01, 0x06), // Ctrl+c
      RELEASE,
      ...altCode('55296'), // a lone surrogate
      ...altCode('9999999'), // beyond Unicode
      ...altCode('0129'), // a hole in Windows-1252
      ...keyboardReportsFor('|X'),
    ];
    const [frame] = decode(reports);
    expect(frame!.text).toBe('046090001234|\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD|X');
    expect(frame!.problem).toBeUndefined();
    expect(frame!.text.split('|')[0]).toBe('046090001234');
  });

  it('ignores caps/num lock and modifier keys reported as keys', () => {
    expect(texts([kb(0, 0x39), RELEASE, kb(0, 0x53), RELEASE, kb(0x02, 0xe1, 0x04), RELEASE, kb(0, ENTER), RELEASE])).toEqual(['A']);
  });

  it('decodes keypad digits and operators typed without Alt', () => {
    expect(texts([kb(0, 0x59), RELEASE, kb(0, 0x62), RELEASE, kb(0, 0x56), RELEASE, kb(0, 0x63), RELEASE, kb(0, 0x58), RELEASE])).toEqual(['10-.']);
  });

  it('flags a frame over maxFrameBytes as too-long without keeping its text, and reads the next one', () => {
    const frames = decode([...keyboardReportsFor('x'.repeat(40)), ...keyboardReportsFor('OK')], 32);
    expect(frames).toEqual([
      { text: '', byteLength: 40, problem: 'too-long' },
      { text: 'OK', byteLength: 2 },
    ]);
  });

  it('flags a Tab inside a frame as control-bytes', () => {
    expect(decode([kb(0, 0x04), RELEASE, kb(0, 0x2b), RELEASE, kb(0, ENTER), RELEASE])).toEqual([{ text: 'a\t', byteLength: 2, problem: 'control-bytes' }]);
  });

  it('strips a report ID byte (9-byte reports) and skips reports of other sizes', () => {
    const decoder = new KeyboardReportDecoder();
    expect(decoder.push(Uint8Array.from([0x01, 0x02, 0, 0x04, 0, 0, 0, 0, 0]))).toEqual([]);
    expect(decoder.push(Uint8Array.from([0, 0, 0]))).toEqual([]);
    expect(decoder.push(Uint8Array.from([0x01, 0, 0, ENTER, 0, 0, 0, 0, 0]))).toEqual([{ text: 'A', byteLength: 1 }]);
    expect(decoder.ignoredReports).toBe(1);
  });

  it('discardPartial() drops the frame but remembers a key still held', () => {
    const decoder = new KeyboardReportDecoder();
    decoder.push(Uint8Array.from(kb(0, 0x04)));
    expect(decoder.pending).toBe(true);
    decoder.discardPartial();
    expect(decoder.pending).toBe(false);
    decoder.push(Uint8Array.from(kb(0, 0x04))); // still held: not typed again
    decoder.push(Uint8Array.from(kb(0, 0x04, ENTER)));
    expect(decoder.pending).toBe(false);
  });
});

describe('altCodeToChar', () => {
  it('maps Windows-1252 0x80..0x9F by its own table, with U+FFFD for its five holes', () => {
    const c1 = Array.from({ length: 32 }, (_, i) => altCodeToChar(`0${128 + i}`));
    expect(c1.join('')).toHaveLength(32);
    expect([c1[0], c1[0x99 - 0x80], c1[0x9f - 0x80]]).toEqual(['€', '™', 'Ÿ']);
    expect(c1.filter((c) => c === '\uFFFD')).toHaveLength(5);
    expect(altCodeToChar('130')).toBe('‚'); // never a C1 control
  });

  it('reads Latin-1 and Vietnamese code points as themselves', () => {
    expect(altCodeToChar('0233')).toBe('é');
    expect(altCodeToChar('233')).toBe('é');
    expect(altCodeToChar('160')).toBe('\u00a0');
    expect(altCodeToChar('272')).toBe('Đ');
  });

  it('reads ASCII, Unicode above 255, and refuses controls and non-digits', () => {
    expect(altCodeToChar('65')).toBe('A');
    expect(altCodeToChar('065')).toBe('A');
    expect(altCodeToChar('7877')).toBe('ễ');
    expect(altCodeToChar('128512')).toBe('😀');
    expect(altCodeToChar('13')).toBe('\uFFFD');
    expect(altCodeToChar('')).toBe('\uFFFD');
  });
});

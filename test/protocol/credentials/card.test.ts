import { describe, it, expect } from 'vitest';
import { propertyRuns } from '../../helpers/propertyRuns.js';
import { crockfordAlphabet } from '../../../protocol/credentials/crockford.js';
import { cardQrPrefix, formatCardQr, generateCardId, parseCardId, parseCardQr } from '../../../protocol/credentials/card.js';

const fixedId = '0HDKM1XDBYPCAQMTSWJBBSE9AX';
const fixedQr = 'QG1:0HDKM1XDBYPCAQMTSWJBBSE9AXA7DD5V';
// ISO/IEC 18004 alphanumeric mode: 0-9, A-Z, space and $ % * + - . / :
const qrAlphanumeric = /^[0-9A-Z $%*+\-./:]+$/;

function refused(text: string): string {
  const result = parseCardQr(text);
  if (result.ok) return expect.fail(`expected a refusal for ${text}`);
  expect(result.reason).toBe('malformed');
  return result.detail;
}

describe('qrgate card QR', () => {
  it('formats a known id to a known QR text', () => {
    expect(formatCardQr(fixedId)).toBe(fixedQr);
    expect(fixedQr).toHaveLength(36);
  });

  it('round-trips generated ids, using only QR alphanumeric characters', () => {
    // Random ids: a property, tried a tenth as often under mutation (test/helpers/propertyRuns.ts).
    const runs = propertyRuns(300);
    const seen = new Set<string>();
    for (let i = 0; i < runs; i++) {
      const id = generateCardId();
      expect(id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
      const qr = formatCardQr(id);
      expect(qr).toMatch(qrAlphanumeric);
      expect(qr.startsWith(cardQrPrefix)).toBe(true);
      expect(parseCardQr(qr)).toEqual({ ok: true, credential: { type: 'card', namespace: 'card', id } });
      seen.add(id);
    }
    expect(seen.size).toBe(runs);
  });

  it('encodes all 128 random bits', () => {
    expect(generateCardId(() => Buffer.alloc(16, 0))).toBe('0'.repeat(26));
    expect(generateCardId(() => Buffer.alloc(16, 0xff))).toBe(`7${'Z'.repeat(25)}`);
  });

  it('forgives case and Crockford aliases (Caps Lock, hand typing)', () => {
    expect(parseCardQr(fixedQr.toLowerCase())).toEqual({ ok: true, credential: { type: 'card', namespace: 'card', id: fixedId } });
    const aliased = fixedQr.replace('0HDKM1', 'OHDKMl');
    expect(parseCardQr(aliased)).toEqual({ ok: true, credential: { type: 'card', namespace: 'card', id: fixedId } });
  });

  it('refuses every single-character substitution (exhaustive)', () => {
    let tried = 0;
    for (let i = cardQrPrefix.length; i < fixedQr.length; i++) {
      for (const char of crockfordAlphabet) {
        if (char === fixedQr[i]) continue;
        refused(fixedQr.slice(0, i) + char + fixedQr.slice(i + 1));
        tried++;
      }
    }
    expect(tried).toBe(32 * 31);
  });

  it('refuses every adjacent transposition that changes the text', () => {
    for (let i = cardQrPrefix.length; i < fixedQr.length - 1; i++) {
      if (fixedQr[i] === fixedQr[i + 1]) continue;
      refused(fixedQr.slice(0, i) + fixedQr[i + 1] + fixedQr[i] + fixedQr.slice(i + 2));
    }
  });

  it('explains refusals without repeating the id', () => {
    expect(refused(`QG2:${fixedQr.slice(4)}`)).toBe('card QR format version 2 is not supported, only 1');
    // Up to three digits are a version number and named; four or more may be part of an ID.
    expect(refused(`QG100:${fixedQr.slice(4)}`)).toBe('card QR format version 100 is not supported, only 1');
    expect(refused(`QG1000:${fixedQr.slice(4)}`)).toBe('card QR format version is not supported, only 1');
    // Found by fast-check: the version digits were echoed whatever their length.
    expect(refused(`QG046199001234:${fixedQr.slice(4)}`)).toBe('card QR format version is not supported, only 1');
    expect(refused(fixedQr.slice(0, -1))).toContain('31 characters after the prefix, expected 32');
    expect(refused(`${fixedQr}0`)).toContain('expected 32');
    expect(refused(fixedQr.replace('0HDKM', 'UHDKM'))).toContain('outside Crockford base32');
    expect(refused(`QG1:8${fixedQr.slice(5)}`)).toContain('out of range');
    expect(refused(fixedQr.replace('A7DD5V', 'A7DD5W'))).toContain('fails its check value');
    expect(refused('QG1:')).toContain('0 characters');
    for (const text of [fixedQr.slice(0, -1), fixedQr.replace('A7DD5V', 'A7DD5W')]) {
      expect(refused(text)).not.toContain(fixedId.slice(0, 8));
    }
  });

  it('formatCardQr refuses ids it could not have generated', () => {
    expect(() => formatCardQr('too-short')).toThrow(RangeError);
    expect(() => formatCardQr(`8${fixedId.slice(1)}`)).toThrow('out of range');
  });

  it('parseCardId canonicalises a bare id', () => {
    expect(parseCardId(fixedId.toLowerCase())).toEqual({ ok: true, id: fixedId });
    expect(parseCardId(fixedId.slice(1)).ok).toBe(false);
  });
});

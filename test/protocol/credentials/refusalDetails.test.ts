import { describe, expect, it } from 'vitest';
import { groupCardNumber, looksLikeCardQr, parseCardQrId } from '../../../protocol/credentials/card.js';
import { describeShape, parseCccdFields } from '../../../protocol/credentials/cccd.js';
import { crockfordValue } from '../../../protocol/credentials/crockford.js';
import { normaliseCredentialId } from '../../../protocol/credentials/ids.js';
import { parsePcCovidFields } from '../../../protocol/credentials/pcCovid.js';
import { cleanCredentialText, maxCredentialLength } from '../../../protocol/credentials/text.js';

/**
 * What a refusal says, rule by rule, for the rules a whole-QR test reaches only behind
 * another one (the mutation run of 4 December left these alive: each refusal was still a
 * refusal, with another rule's words or a TypeError). The detail is what a technician reads
 * in `scan.refused` to tell a damaged card from a foreign QR.
 */

const cardId = '0HDKM1XDBYPCAQMTSWJBBSE9AX';
const cardQr = 'QG1:0HDKM1XDBYPCAQMTSWJBBSE9AXA7DD5V';

function detailOf(result: { readonly ok: boolean; readonly detail?: string }): string | undefined {
  expect(result.ok).toBe(false);
  return result.detail;
}

describe('card QR refusals name their rule', () => {
  it('text without the QG prefix is "not a qrgate card QR", also with the prefix further in', () => {
    expect(detailOf(parseCardQrId('hello'))).toBe('not a qrgate card QR (no QG1: prefix)');
    expect(detailOf(parseCardQrId(`X${cardQr}`))).toBe('not a qrgate card QR (no QG1: prefix)');
    expect(looksLikeCardQr(`X${cardQr}`)).toBe(false);
  });

  it('a version of several digits is still meant as a card (and refused by version)', () => {
    expect(looksLikeCardQr(`QG12:${cardQr.slice(4)}`)).toBe(true);
    expect(detailOf(parseCardQrId(`QG12:${cardQr.slice(4)}`))).toBe('card QR format version 12 is not supported, only 1');
  });

  it('a check value with a character outside Crockford base32 says so, not "fails its check value"', () => {
    expect(detailOf(parseCardQrId(`${cardQr.slice(0, -1)}U`))).toBe('card QR check value has a character outside Crockford base32');
    expect(detailOf(parseCardQrId(`${cardQr.slice(0, -1)}W`))).toBe('card QR fails its check value: misread, mistyped or not made by qrgate');
  });

  it('prints the card number in groups of four', () => {
    expect(groupCardNumber(cardId)).toBe('0HDK M1XD BYPC AQMT SWJB BSE9 AX');
    expect(groupCardNumber('')).toBe('');
  });

  it('reads a Crockford character in either case', () => {
    expect(crockfordValue('z')).toBe(31);
    expect(crockfordValue('Z')).toBe(31);
    expect(crockfordValue('o')).toBe(0);
    expect(crockfordValue('u')).toBeUndefined();
  });
});

describe('field-count refusals', () => {
  it('a CCCD QR of 5 or 8 fields names its count', () => {
    expect(detailOf(parseCccdFields(['046199001234', 'Nguyễn Văn A', '01011990', 'Nam', 'Huế']))).toBe('CCCD QR has 5 fields, expected 6 or 7');
    expect(detailOf(parseCccdFields(Array.from({ length: 8 }, () => '')))).toBe('CCCD QR has 8 fields, expected 6 or 7');
  });

  it('a PC-Covid QR of 7 fields names its count', () => {
    expect(detailOf(parsePcCovidFields(['046199001234', 'A', '1990-01-01', '1', 'QID-1234', '', '']))).toBe('PC-Covid QR has 7 fields, expected 6');
  });
});

describe('describeShape names the classes present, never the content', () => {
  it.each([
    ['046199001234', '12 characters: digits'],
    ['Huế', '3 characters: letters'],
    ['--', '2 characters: other characters'],
    ['A1-', '3 characters: digits, letters, other characters'],
    ['', 'empty'],
  ])('%j reads "%s"', (field, shape) => {
    expect(describeShape(field)).toBe(shape);
  });
});

describe('the input bound before trimming', () => {
  it('accepts a credential padded with spaces up to twice the limit', () => {
    const padded = `${' '.repeat(maxCredentialLength * 2 - cardQr.length)}${cardQr}`;
    expect(padded).toHaveLength(maxCredentialLength * 2);
    expect(cleanCredentialText(padded)).toEqual({ ok: true, text: cardQr });
  });

  it('refuses past twice the limit without trimming, whatever the spaces hide', () => {
    const padded = `${' '.repeat(maxCredentialLength * 2 - cardQr.length + 1)}${cardQr}`;
    expect(detailOf(cleanCredentialText(padded))).toBe(`input is ${padded.length} characters, limit ${maxCredentialLength}`);
  });
});

describe('registered identifiers are trimmed like scans', () => {
  it('a card id or card QR with spaces around it normalises to the same id', () => {
    expect(normaliseCredentialId('card', `  ${cardId} `)).toEqual({ ok: true, id: cardId });
    expect(normaliseCredentialId('card', ` ${cardQr}\t`)).toEqual({ ok: true, id: cardId });
    expect(normaliseCredentialId('app', ' QID-1234 ')).toEqual({ ok: true, id: 'QID-1234' });
  });
});

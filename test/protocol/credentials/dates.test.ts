import { describe, expect, it } from 'vitest';
import { isDdMmYyyy, isIsoDate, looksLikeIsoDate } from '../../../protocol/credentials/dates.js';
import { looksTyped, normaliseCitizenId } from '../../../protocol/credentials/typed.js';

/** The field checks that tell a misread or hand-made QR from a real one (edges found by mutation testing). */
describe('date fields', () => {
  it('takes real calendar dates from 1880 to 2200 and nothing around them', () => {
    expect(isDdMmYyyy('01011880')).toBe(true);
    expect(isDdMmYyyy('31122200')).toBe(true);
    expect(isDdMmYyyy('31121879')).toBe(false);
    expect(isDdMmYyyy('01012201')).toBe(false);
    expect(isDdMmYyyy('29022024')).toBe(true);
    expect(isDdMmYyyy('29022023')).toBe(false);
    expect(isDdMmYyyy('00012000')).toBe(false);
    expect(isDdMmYyyy('01002000')).toBe(false);
    expect(isDdMmYyyy('01132000')).toBe(false);
    expect(isIsoDate('1880-01-01')).toBe(true);
    expect(isIsoDate('2200-12-31')).toBe(true);
    expect(isIsoDate('1879-12-31')).toBe(false);
    expect(isIsoDate('2201-01-01')).toBe(false);
    expect(isIsoDate('2000-00-10')).toBe(false);
    expect(isIsoDate('2000-13-10')).toBe(false);
    expect(isIsoDate('2000-02-30')).toBe(false);
  });

  it('refuses a date with anything before or after it', () => {
    for (const text of ['x01012000', '01012000x', '001012000']) expect(isDdMmYyyy(text)).toBe(false);
    for (const text of ['x2000-01-01', '2000-01-01x']) {
      expect(looksLikeIsoDate(text)).toBe(false);
      expect(isIsoDate(text)).toBe(false);
    }
    expect(looksLikeIsoDate('2000-99-99')).toBe(true);
    expect(isIsoDate('2000-99-99')).toBe(false);
  });
});

describe('typed ID numbers', () => {
  it('drops the spaces and dashes operators type, and refuses anything else in or around the digits', () => {
    expect(normaliseCitizenId('079 123-456 789')).toEqual({ ok: true, id: '079123456789' });
    for (const text of ['x079123456789', '079123456789x', '07912345678O9', '']) {
      expect(normaliseCitizenId(text)).toEqual({ ok: false, detail: 'ID number has characters other than digits, spaces and dashes' });
    }
    expect(looksTyped('079 123')).toBe(true);
    expect(looksTyped('079123x')).toBe(false);
    expect(looksTyped(' - ')).toBe(false);
  });
});

import { describe, it, expect } from 'vitest';
import { formatCardQr, normaliseCredentialId, parseCredential } from '../../../protocol/credentials/index.js';

const cardId = '0HDKM1XDBYPCAQMTSWJBBSE9AX';

describe('normaliseCredentialId', () => {
  it('normalises citizen ids like a typed number', () => {
    expect(normaliseCredentialId('citizen', ' 046 199 001 234 ')).toEqual({ ok: true, id: '046199001234' });
    expect(normaliseCredentialId('citizen', '191-234-567')).toEqual({ ok: true, id: '191234567' });
    const bad = normaliseCredentialId('citizen', '46199001234');
    expect(bad).toEqual({ ok: false, detail: 'ID number has 11 digits, expected 9 (CMND) or 12 (CCCD)' });
  });

  it('accepts a card id or the full card QR text, both canonical', () => {
    expect(normaliseCredentialId('card', cardId.toLowerCase())).toEqual({ ok: true, id: cardId });
    expect(normaliseCredentialId('card', formatCardQr(cardId))).toEqual({ ok: true, id: cardId });
    expect(normaliseCredentialId('card', 'QG1:0HDKM1XDBYPCAQMTSWJBBSE9AXA7DD5W').ok).toBe(false);
  });

  it('accepts app ids as they are', () => {
    expect(normaliseCredentialId('app', 'a1B2-c3D4')).toEqual({ ok: true, id: 'a1B2-c3D4' });
    expect(normaliseCredentialId('app', 'a b').ok).toBe(false);
  });

  it('gives the same id the scan parsers give', () => {
    const samples = [
      ['citizen', '046199001234', '046199001234||Nguyễn Thị Hồng Nhung|12031999|Nữ|Thừa Thiên Huế|20042021'],
      ['citizen', '191234567', '191234567|Trần Văn An|1970-01-15|0|QID0042|'],
      ['app', 'QID0042', '|Trần Bé|2018-01-15|0|QID0042|'],
      ['card', cardId, formatCardQr(cardId)],
    ] as const;
    for (const [namespace, raw, qr] of samples) {
      const scanned = parseCredential(qr, { typed: false });
      const registered = normaliseCredentialId(namespace, raw);
      expect(scanned.ok && registered.ok && scanned.credential.id === registered.id).toBe(true);
      expect(scanned.ok && scanned.credential.namespace).toBe(namespace);
    }
  });
});

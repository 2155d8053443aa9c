import { describe, it, expect } from 'vitest';
import { parseCredential } from '../../../protocol/credentials/index.js';

const typed = (text: string) => parseCredential(text, { typed: true });

describe('typed ID numbers', () => {
  it('accepts 9- and 12-digit numbers, dropping spaces and dashes', () => {
    for (const [text, id] of [
      ['046199001234', '046199001234'],
      ['046 199 001 234', '046199001234'],
      ['0461-9900-1234\n', '046199001234'],
      ['191234567', '191234567'],
      [' 191-234-567 ', '191234567'],
    ] as const) {
      expect(typed(text)).toEqual({ ok: true, credential: { type: 'typed', namespace: 'citizen', id } });
    }
  });

  it('refuses other lengths without echoing the digits', () => {
    for (const text of ['19123456', '1912345678', '04619900123', '0461990012345']) {
      const result = typed(text);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.detail).toContain(`has ${text.length} digits`);
        expect(result.detail).not.toContain(text);
      }
    }
  });

  it('refuses bare digits from a scanner', () => {
    const result = parseCredential('046199001234', { typed: false });
    expect(result).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'bare digits from a scanner: a partial read or a barcode, not a credential',
    });
  });

  it('still reads QR formats from the keyboard', () => {
    const result = typed('046199001234|Nguyễn Văn A|12031999|Nam|Huế|20042021');
    expect(result.ok && result.credential.type).toBe('cccd');
  });
});

import { describe, it, expect } from 'vitest';
import { formatCardQr, generateCardId, maxCredentialLength, parseCredential } from '../../../protocol/credentials/index.js';

function detailOf(text: string, typed = false): string {
  const result = parseCredential(text, { typed });
  if (result.ok) return expect.fail('expected a refusal');
  expect(result.reason).toBe('malformed');
  return result.detail;
}

describe('parseCredential', () => {
  it('refuses empty and blank input', () => {
    expect(detailOf('')).toBe('input is empty');
    expect(detailOf(' \r\n')).toBe('input is empty');
  });

  it('refuses control characters', () => {
    for (const text of ['QG1:\u0000', 'abc\u001bdef', '046199001234\u0085', 'x\u007fy']) {
      expect(detailOf(text)).toContain('control character');
    }
  });

  it('names where the control character is, counting from 1', () => {
    expect(detailOf('\u0000QG1:')).toBe('input has a control character at position 1');
    expect(detailOf('abc\u001bdef')).toBe('input has a control character at position 4');
  });

  it('accepts a QR of exactly the length limit, also with the scanner suffix and spaces around it', () => {
    // A CCCD QR with a long address: the limit is on the text, not on what the scanner wraps it in.
    const head = '046199001234||Nguyen Van A|12031999|Nam|';
    const tail = '|20042021';
    const atLimit = head + 'A'.repeat(maxCredentialLength - head.length - tail.length) + tail;
    expect(atLimit).toHaveLength(maxCredentialLength);
    for (const text of [atLimit, `  ${atLimit}  \r\n`]) {
      expect(parseCredential(text, { typed: false })).toMatchObject({ ok: true, credential: { id: '046199001234' } });
    }
    expect(detailOf(`${head}A${atLimit.slice(head.length)}`)).toBe(`input is ${maxCredentialLength + 1} characters, limit ${maxCredentialLength}`);
  });

  it('refuses over-long input', () => {
    const long = `046199001234||${'A'.repeat(maxCredentialLength)}|12031999|Nam|Huế|20042021`;
    expect(detailOf(long)).toContain(`limit ${maxCredentialLength}`);
    expect(detailOf('x'.repeat(10 * maxCredentialLength))).toContain(`limit ${maxCredentialLength}`);
  });

  it('refuses unknown shapes, never echoing them', () => {
    for (const text of ['hello', 'https://pc-covid.gov.vn/qr/046199001234', 'ABC-123', '{"id":"046199001234"}']) {
      const detail = detailOf(text);
      expect(detail).toMatch(/^unrecognised credential format \(\d+ characters\)$/);
    }
  });

  it('strips the scanner suffix and surrounding whitespace', () => {
    const qr = formatCardQr(generateCardId());
    for (const text of [`${qr}\r\n`, `${qr}\n`, `${qr}\r`, `  ${qr}  `, `\ufeff${qr}`]) {
      expect(parseCredential(text, { typed: false }).ok).toBe(true);
    }
  });
});

import { describe, it, expect } from 'vitest';
import { parseCredential } from '../../../protocol/credentials/index.js';

const scan = (text: string) => parseCredential(text, { typed: false });

function refusal(text: string): string {
  const result = scan(text);
  if (result.ok) return expect.fail('expected a refusal');
  for (const run of text.match(/\d{6,}/g) ?? []) expect(result.detail).not.toContain(run);
  return result.detail;
}

describe('PC-Covid / Hue-S QR', () => {
  it('uses a 12-digit CCCD or 9-digit CMND number as a citizen id', () => {
    expect(scan('046199001234|Nguyễn Thị Hồng Nhung|1999-03-12|1|HUES-7F3A9C21|2021-10-01<Thừa Thiên Huế<0')).toEqual({
      ok: true,
      credential: { type: 'pccovid', namespace: 'citizen', id: '046199001234' },
    });
    expect(scan('191234567|Trần Văn An|1970-01-15|0|a8f3e2c1-77b0-4c1e-9d2a-0f3b5e6d7c8a|<<')).toEqual({
      ok: true,
      credential: { type: 'pccovid', namespace: 'citizen', id: '191234567' },
    });
    expect(scan('001085012345|Lê Văn Tám|1985-11-05|0||\r\n')).toEqual({
      ok: true,
      credential: { type: 'pccovid', namespace: 'citizen', id: '001085012345' },
    });
  });

  it('falls back to the QID for people without an ID number', () => {
    expect(scan('|Nguyễn Bé Na|2018-06-01|1|a1B2-c3D4-e5F6|2021-09-15<Huế')).toEqual({
      ok: true,
      credential: { type: 'pccovid', namespace: 'app', id: 'a1B2-c3D4-e5F6' },
    });
    // A passport number is not a citizen id: the QID is used.
    expect(scan('C1234567|John Smith|1980-02-29|2|QID0042|')).toEqual({
      ok: true,
      credential: { type: 'pccovid', namespace: 'app', id: 'QID0042' },
    });
  });

  it('refuses a QR with neither a usable ID number nor QID', () => {
    expect(refusal('|Nguyễn Bé Na|2018-06-01|1||')).toContain('neither');
    expect(refusal('12345678|Nguyễn Bé Na|2018-06-01|1|ab1|')).toContain('neither');
    expect(refusal('|Nguyễn Bé Na|2018-06-01|1|has space|')).toContain('neither');
    expect(refusal(`|Nguyễn Bé Na|2018-06-01|1|${'a'.repeat(65)}|`)).toContain('neither');
  });

  it('refuses a birth date that is not a real date', () => {
    expect(refusal('046199001234|Nguyễn Văn A|1999-02-30|1|HUES-7F3A9C21|')).toContain('birth date');
    expect(refusal('046199001234|Nguyễn Văn A|1999-13-01|1|HUES-7F3A9C21|')).toContain('birth date');
  });

  it('is told apart from a 6-field CCCD by the date format', () => {
    const cccd = scan('046199001234|Nguyễn Văn A|12031999|Nam|Huế|20042021');
    const pcCovid = scan('046199001234|Nguyễn Văn A|1999-03-12|Nam|Huế|20042021');
    expect(cccd.ok && cccd.credential.type).toBe('cccd');
    expect(pcCovid.ok && pcCovid.credential.type).toBe('pccovid');
    // Both name the same person: the same namespace and id, so the same ref.
    expect(cccd.ok && pcCovid.ok && cccd.credential.namespace === pcCovid.credential.namespace).toBe(true);
    expect(cccd.ok && pcCovid.ok && cccd.credential.id === pcCovid.credential.id).toBe(true);
  });
});

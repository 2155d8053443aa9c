import { describe, it, expect } from 'vitest';
import { parseCredential } from '../../../protocol/credentials/index.js';

const scan = (text: string) => parseCredential(text, { typed: false });

function acceptedId(text: string): string {
  const result = scan(text);
  if (!result.ok) return expect.fail(`refused: ${result.detail}`);
  expect(result.credential.type).toBe('cccd');
  expect(result.credential.namespace).toBe('citizen');
  return result.credential.id;
}

function refusal(text: string): string {
  const result = scan(text);
  if (result.ok) return expect.fail('expected a refusal');
  expect(result.reason).toBe('malformed');
  // The detail is logged: no run of ID-like digits from the input may appear in it.
  for (const run of text.match(/\d{6,}/g) ?? []) expect(result.detail).not.toContain(run);
  return result.detail;
}

describe('CCCD QR', () => {
  const samples: [string, string][] = [
    ['046199001234||Nguyễn Thị Hồng Nhung|12031999|Nữ|Phường Vĩnh Ninh, Thành phố Huế, Thừa Thiên Huế|20042021', '046199001234'],
    ['001085012345|013456789|Trần Văn Hùng|05111985|Nam|Số 12 Ngõ 34 Phố Huế, Hai Bà Trưng, Hà Nội|10072021', '001085012345'],
    ['079304004567|025678901234|Lê Hoàng Phúc|29022004|Nam|123/4 Nguyễn Trãi, Phường 2, Quận 5, TP Hồ Chí Minh|14082022', '079304004567'],
    ['048190007788|Phạm Thị Thu Hà|31121990|Nữ|Tổ 5, Hải Châu, Đà Nẵng|01062022', '048190007788'],
    ['046201009876|Hoàng Đức Anh|01012001|Nam|Thôn Lại Thế, Phú Thượng, Phú Vang, Thừa Thiên Huế|30092021', '046201009876'],
    ['038096000111|191234567|Đặng Thị Ánh Tuyết|15081996|Nữ|Xóm 3, Quảng Xương, Thanh Hóa|25122021\r\n', '038096000111'],
    ['  031180005432|Bùi Văn Lực|07071980|Nam|Lê Chân, Hải Phòng|12122021  ', '031180005432'],
  ];

  it('reads the 12-digit ID from 6- and 7-field QRs with Vietnamese text', () => {
    for (const [text, id] of samples) expect(acceptedId(text)).toBe(id);
  });

  it('reads decomposed (NFD) text the same as precomposed', () => {
    const text = '046199001234||Nguyễn Thị Hồng Nhung|12031999|Nữ|Thừa Thiên Huế|20042021'.normalize('NFD');
    expect(text).not.toBe(text.normalize('NFC'));
    expect(acceptedId(text)).toBe('046199001234');
  });

  it('does not let a garbled name or address break the ID', () => {
    // What a keyboard-wedge scanner makes of diacritics: mojibake and replacement characters.
    expect(acceptedId('046199001234||Nguy\u00e1\u00bb\u2026n Th\u00e1\u00bb\u2039 H\u00e1\u00bb\u201cng|12031999|N\u00e1\u00bb\u00af|Th\u00e1\u00bb\u00aba Thi\u00c3\u00aan Hu\u00e1\u00ba\u00bf|20042021')).toBe('046199001234');
    expect(acceptedId('046199001234|Nguy\ufffdn Th\ufffd H\ufffdng|12031999|N\ufffd|\ufffd\ufffd|20042021')).toBe('046199001234');
    expect(acceptedId('046199001234|||12031999|||20042021')).toBe('046199001234');
  });

  it('refuses a bad ID number', () => {
    expect(refusal('04619900123|Nguyễn Văn A|12031999|Nam|Huế|20042021')).toContain('ID field is not 12 digits (11 characters: digits)');
    expect(refusal('0461990012345||Nguyễn Văn A|12031999|Nam|Huế|20042021')).toContain('ID field is not 12 digits');
    expect(refusal('04619900I234||Nguyễn Văn A|12031999|Nam|Huế|20042021')).toContain('digits, letters');
    expect(refusal('|123456789|Nguyễn Văn A|12031999|Nam|Huế|20042021')).toContain('empty');
  });

  it('refuses a bad old CMND field', () => {
    expect(refusal('046199001234|12345678|Nguyễn Văn A|12031999|Nam|Huế|20042021')).toContain('old CMND');
    expect(refusal('046199001234|1234567890|Nguyễn Văn A|12031999|Nam|Huế|20042021')).toContain('old CMND');
  });

  it('refuses dates that are not real ddmmyyyy dates', () => {
    expect(refusal('046199001234||Nguyễn Văn A|30021999|Nam|Huế|20042021')).toContain('birth date');
    expect(refusal('046199001234||Nguyễn Văn A|31041999|Nam|Huế|20042021')).toContain('birth date');
    expect(refusal('046199001234||Nguyễn Văn A|29021900|Nam|Huế|20042021')).toContain('birth date');
    expect(refusal('046199001234||Nguyễn Văn A|12-03-1999|Nam|Huế|20042021')).toContain('birth date');
    expect(refusal('046199001234||Nguyễn Văn A|12031999|Nam|Huế|00042021')).toContain('issue date');
    expect(refusal('046199001234|Nguyễn Văn A|12031999|Nam|Huế|2004202')).toContain('issue date');
    expect(acceptedId('046199001234||Nguyễn Văn A|29022000|Nam|Huế|20042021')).toBe('046199001234');
  });

  it('refuses the wrong number of fields', () => {
    expect(refusal('046199001234|Nguyễn Văn A|12031999|Nam|20042021')).toBe('QR has 5 "|"-separated fields, expected 6 (CCCD or PC-Covid) or 7 (CCCD)');
    expect(refusal('046199001234||Nguyễn Văn A|12031999|Nam|Huế|20042021|extra')).toContain('8 "|"-separated fields');
  });

  it('refuses control characters anywhere', () => {
    expect(refusal('046199001234||Nguyễn\tVăn A|12031999|Nam|Huế|20042021')).toContain('control character');
    expect(refusal('046199001234||Nguyễn Văn A|12031999|Nam|Huế\u0000|20042021')).toContain('control character');
  });
});

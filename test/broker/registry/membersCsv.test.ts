import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkMemberField, checkMemberRow, maskIdNumber, type MemberColumn } from '../../../broker/registry/memberRow.js';
import { MembersCsvError, readMembersCsv, type MembersCsvItem } from '../../../broker/registry/membersCsv.js';

const HEADER = 'name,phone,address,unit,scope,idNumber,status';
const ID = '046085000123';

const good = { name: 'Nguyễn Văn An', phone: '0905123456', address: '12 Lê Lợi, Huế', unit: 'Công ty May Huế', scope: 'site-a', idNumber: ID, status: 'allow' };

async function read(text: string | Buffer): Promise<{ items: MembersCsvItem[]; rows: number }> {
  const items: MembersCsvItem[] = [];
  const rows = await readMembersCsv(Readable.from([typeof text === 'string' ? Buffer.from(text, 'utf8') : text]), (item) => {
    items.push(item);
  });
  return { items, rows };
}

describe('member fields', () => {
  it('accepts a good row and normalises it', () => {
    const decomposed = 'Nguye\u0302\u0303n  Thi\u0323  Lan'; // "Nguyễn Thị Lan" with combining marks and double spaces
    const result = checkMemberRow({ ...good, name: `  ${decomposed} `, phone: '+84 905.123-456', idNumber: `  ${ID.slice(0, 4)} ${ID.slice(4)} `, status: ' check ' });
    expect(result).toEqual({
      ok: true,
      row: { ...good, name: 'Nguyễn Thị Lan', phone: '+84905123456', idNumber: ID, status: 'check' },
    });
    expect(result.ok && result.row.name).toBe('Nguyễn Thị Lan'.normalize('NFC'));
  });

  it.each<[MemberColumn, string, string]>([
    ['name', '   ', 'is empty'],
    ['name', 'An\u0000', 'contains a control character'],
    ['name', 'x'.repeat(101), 'is 101 characters long, at most 100 allowed'],
    ['name', 'Nguy\uFFFDn', 'is not valid UTF-8 (save the file as "CSV UTF-8")'],
    ['phone', '', 'is empty'],
    ['phone', '090 512 3', 'has 7 digits, expected 8 to 15'],
    ['phone', '+84 90512345678901', 'has 16 digits, expected 8 to 15'],
    ['phone', '0905 123 456 (home)', 'may hold only digits, a leading "+", spaces, dots and dashes'],
    ['phone', '0905+123456', 'may hold only digits, a leading "+", spaces, dots and dashes'],
    ['address', 'x'.repeat(301), 'is 301 characters long, at most 300 allowed'],
    ['unit', '', 'is empty'],
    ['scope', 'Site A', 'must be lowercase letters, digits, ".", "_" and "-" only, 1 to 64 characters'],
    ['scope', '', 'must be lowercase letters, digits, ".", "_" and "-" only, 1 to 64 characters'],
    ['idNumber', '04608500012', 'ID number has 11 digits, expected 9 (CMND) or 12 (CCCD) (leading zeros lost in a spreadsheet? format the column as text)'],
    ['idNumber', '04608500012X', 'ID number has characters other than digits, spaces and dashes'],
    ['idNumber', '', 'ID number has characters other than digits, spaces and dashes'],
    ['status', 'Allow', 'must be allow, deny, check'],
    ['status', 'remove', 'must be allow, deny, check'],
  ])('refuses %s %j: %s', (field, value, message) => {
    // Bytes that were not UTF-8 are the file's fault, not the value's: a page says "save it again as UTF-8".
    const kind = message.includes('UTF-8') ? 'encoding' : 'invalid';
    expect(checkMemberField(field, value)).toEqual({ ok: false, kind, message });
    expect(checkMemberRow({ ...good, [field]: value })).toEqual({ ok: false, problems: [{ field, kind, message }], idNumber: field === 'idNumber' ? null : ID });
  });

  it('allows an empty address and a 9-digit CMND', () => {
    expect(checkMemberRow({ ...good, address: '', idNumber: '191234567' })).toMatchObject({ ok: true, row: { address: '', idNumber: '191234567' } });
  });

  it('reports every bad field of a row, never quoting the ID number', () => {
    const result = checkMemberRow({ ...good, name: '', idNumber: '12345678901234', status: 'yes' });
    expect(result).toEqual({
      ok: false,
      problems: [
        { field: 'name', kind: 'invalid', message: 'is empty' },
        { field: 'idNumber', kind: 'invalid', message: 'ID number has 14 digits, expected 9 (CMND) or 12 (CCCD)' },
        { field: 'status', kind: 'invalid', message: 'must be allow, deny, check' },
      ],
      idNumber: null,
    });
    expect(JSON.stringify(result)).not.toContain('12345678901234');
  });

  it('masks all but the last 3 digits', () => {
    expect(maskIdNumber(ID)).toBe('*********123');
    expect(maskIdNumber('191234567')).toBe('******567');
  });
});

describe('members file', () => {
  it('reads a BOM, CRLF line ends, quoted commas, quotes and line breaks, skipping blank lines, with the line each row starts on', async () => {
    const text =
      `\uFEFF${HEADER}\r\n` +
      `Nguyễn Văn An,0905123456,"12 Lê Lợi, Phường Phú Hội, Huế",Công ty May Huế,site-a,${ID},allow\r\n` +
      '\r\n' +
      `"Trần Thị ""Bé"" Hà",0914000111,"Tầng 2\r\nKCN Phú Bài",KCN Phú Bài,site-a,046185000124,check\r\n` +
      `Lê Hùng, 0983 000 222 ,, Tổ 5 ,site-b,046085000125,deny`;
    const { items, rows } = await read(text);
    expect(rows).toBe(3);
    expect(items).toEqual([
      { line: 2, row: { name: 'Nguyễn Văn An', phone: '0905123456', address: '12 Lê Lợi, Phường Phú Hội, Huế', unit: 'Công ty May Huế', scope: 'site-a', idNumber: ID, status: 'allow' } },
      { line: 4, row: { name: 'Trần Thị "Bé" Hà', phone: '0914000111', address: 'Tầng 2 KCN Phú Bài', unit: 'KCN Phú Bài', scope: 'site-a', idNumber: '046185000124', status: 'check' } },
      { line: 6, row: { name: 'Lê Hùng', phone: '0983000222', address: '', unit: 'Tổ 5', scope: 'site-b', idNumber: '046085000125', status: 'deny' } },
    ]);
  });

  it('reports a row with the wrong number of columns, and bad fields, by line', async () => {
    const text = [HEADER, `An,0905123456,12 Lê Lợi, Huế,Công ty,site-a,${ID},allow`, `,0905123456,,Công ty,site-a,${ID},maybe`].join('\n');
    const { items } = await read(text);
    expect(items).toEqual([
      { line: 2, problems: [{ line: 2, field: null, kind: 'columns', message: 'has 8 columns, expected 7 (name,phone,address,unit,scope,idNumber,status); quote fields that contain a comma' }], idNumber: null },
      {
        line: 3,
        problems: [
          { line: 3, field: 'name', kind: 'invalid', message: 'is empty' },
          { line: 3, field: 'status', kind: 'invalid', message: 'must be allow, deny, check' },
        ],
        idNumber: ID,
      },
    ]);
  });

  it.each([
    ['another header', 'namespace,id,status\ncitizen,046085000123,allow\n', 1, 'line 1: the header must be exactly name,phone,address,unit,scope,idNumber,status'],
    ['columns in another order', 'phone,name,address,unit,scope,idNumber,status\n', 1, 'line 1: the header must be exactly name,phone,address,unit,scope,idNumber,status'],
    ['an empty file', '', null, 'the file is empty: expected the header name,phone,address,unit,scope,idNumber,status'],
  ])('refuses %s', async (_what, text, line, message) => {
    await expect(read(text)).rejects.toMatchObject({ code: 'header', line, message });
  });

  it('stops at broken CSV with its line, without quoting the cell', async () => {
    const text = [HEADER, `An,0905123456,,Công ty,site-a,${ID},allow`, `Bình,0905123457,,"Công ty"x,site-a,046085000999,allow`, 'more,rows,after'].join('\n');
    const failure = await read(text).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(MembersCsvError);
    expect(failure).toMatchObject({ code: 'syntax', line: 3 });
    expect((failure as Error).message).toMatch(/^line 3: the file is not valid CSV \(CSV_[A-Z_]+\); check the quotes on this line$/);
    expect((failure as Error).message).not.toContain('046085000999');
  });

  it('refuses a file that is not UTF-8 (a Windows-1258 export) by field', async () => {
    const latin = Buffer.concat([Buffer.from(`${HEADER}\n`), Buffer.from([0x4e, 0x67, 0x75, 0x79, 0xd2, 0x6e]), Buffer.from(`,0905123456,,Unit,site-a,${ID},allow\n`)]);
    const { items } = await read(latin);
    expect(items).toEqual([{ line: 2, problems: [{ line: 2, field: 'name', kind: 'encoding', message: 'is not valid UTF-8 (save the file as "CSV UTF-8")' }], idNumber: ID }]);
  });
});

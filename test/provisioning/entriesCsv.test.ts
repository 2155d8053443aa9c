import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it, expect } from 'vitest';
import { formatCardQr } from '../../protocol/credentials/index.js';
import { EntriesCsvError, readEntriesCsv, type EntryRow } from '../../provisioning/entriesCsv.js';
import { useTempDir } from '../helpers/tempDir.js';

const scratchDir = useTempDir('qrgate-csv-');

const cardId = '0HDKM1XDBYPCAQMTSWJBBSE9AX';

async function rows(text: string): Promise<EntryRow[]> {
  const out: EntryRow[] = [];
  for await (const row of readEntriesCsv(Readable.from([text]))) out.push(row);
  return out;
}

async function csvError(text: string): Promise<EntriesCsvError> {
  try {
    await rows(text);
  } catch (err) {
    expect(err).toBeInstanceOf(EntriesCsvError);
    return err as EntriesCsvError;
  }
  return expect.fail('expected an EntriesCsvError');
}

describe('readEntriesCsv', () => {
  it('reads and normalises every namespace, with optional windows', async () => {
    const text = [
      '\ufeffnamespace,id,status,validFrom,validUntil',
      'citizen,046 199 001 234,allow,,',
      'citizen,191234567,deny,2025-01-01T00:00:00Z,',
      `card,${cardId.toLowerCase()},check,,2025-06-30T17:00:00+07:00`,
      `card,${formatCardQr(cardId)},allow,,`,
      '',
      'app,HUES-7F3A9C21,allow,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z',
    ].join('\r\n');
    expect(await rows(text)).toEqual([
      { line: 2, namespace: 'citizen', id: '046199001234', status: 'allow' },
      { line: 3, namespace: 'citizen', id: '191234567', status: 'deny', validFrom: Date.parse('2025-01-01T00:00:00Z') },
      { line: 4, namespace: 'card', id: cardId, status: 'check', validUntil: Date.parse('2025-06-30T10:00:00Z') },
      { line: 5, namespace: 'card', id: cardId, status: 'allow' },
      {
        line: 7,
        namespace: 'app',
        id: 'HUES-7F3A9C21',
        status: 'allow',
        validFrom: Date.parse('2025-01-01T00:00:00Z'),
        validUntil: Date.parse('2025-02-01T00:00:00Z'),
      },
    ]);
  });

  it('accepts the three-column header and columns in any order', async () => {
    expect(await rows('namespace,id,status\ncitizen,191234567,allow\n')).toEqual([
      { line: 2, namespace: 'citizen', id: '191234567', status: 'allow' },
    ]);
    expect(await rows('Status,ID,Namespace\ndeny,191234567,citizen\n')).toEqual([
      { line: 2, namespace: 'citizen', id: '191234567', status: 'deny' },
    ]);
  });

  it('stops at a bad row with its line number and never the id', async () => {
    const cases: [string, string][] = [
      ['citizen,04619900123,allow,,', 'line 3: citizen id: ID number has 11 digits, expected 9 (CMND) or 12 (CCCD) (leading zeros lost in a spreadsheet?)'],
      ['citizen,04619900123X,allow,,', 'line 3: citizen id: ID number has characters other than digits, spaces and dashes'],
      ['person,046199001234,allow,,', 'line 3: namespace must be card, citizen, app'],
      ['citizen,046199001234,maybe,,', 'line 3: status must be allow, deny, check, revoked'],
      ['citizen,046199001234,remove,,', 'line 3: status must be allow, deny, check, revoked'],
      ['citizen,046199001234,revoked,,', 'line 3: status revoked is for namespace card only (use deny)'],
      ['card,0HDKM1XDBYPCAQMTSWJBBSE9A,allow,,', 'line 3: card id: card id has 25 characters, expected 26'],
      ['app,a b,allow,,', 'line 3: app id: app id must be 4 to 64 letters, digits or "-"'],
      ['citizen,046199001234,allow,yesterday,', 'line 3: validFrom is not an ISO 8601 date-time with a zone (e.g. 2025-06-30T17:00:00+07:00)'],
      ['citizen,046199001234,allow,2025-01-01T00:00:00,', 'line 3: validFrom is not an ISO 8601 date-time with a zone (e.g. 2025-06-30T17:00:00+07:00)'],
      ['citizen,046199001234,allow,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z', 'line 3: validFrom must be before validUntil'],
      ['citizen,046199001234,allow', 'line 3: has 3 columns, the header has 5'],
    ];
    for (const [row, message] of cases) {
      const err = await csvError(`namespace,id,status,validFrom,validUntil\ncitizen,191234567,allow,,\n${row}\n`);
      expect(err.code).toBe('row');
      expect(err.line).toBe(3);
      expect(err.message).toBe(message);
      expect(err.message).not.toMatch(/\d{9}/);
    }
  });

  it('refuses a bad header', async () => {
    expect((await csvError('namespace,id\ncitizen,191234567\n')).message).toBe(
      'line 1: missing column status; the header is namespace,id,status[,validFrom,validUntil]',
    );
    expect((await csvError('namespace,id,status,validUntill\n')).message).toContain('unknown column 4');
    expect((await csvError('namespace,id,status,id\n')).message).toContain('column id appears twice');
    const empty = await csvError('');
    expect(empty.code).toBe('header');
    expect(empty.message).toContain('empty');
  });

  it('reports CSV syntax errors by line and code only', async () => {
    const err = await csvError('namespace,id,status\ncitizen,"046199001234"x,allow\n');
    expect(err.code).toBe('syntax');
    expect(err.line).toBe(2);
    expect(err.message).not.toContain('046199001234');
  });

  it('reports an unreadable file', async () => {
    const missing = join(scratchDir(), 'missing.csv');
    const err = await (async () => {
      try {
        for await (const _ of readEntriesCsv(createReadStream(missing))) void _;
      } catch (e) {
        return e as EntriesCsvError;
      }
      return expect.fail('expected an error');
    })();
    expect(err).toBeInstanceOf(EntriesCsvError);
    expect(err.code).toBe('unreadable');
    expect(err.message).toContain('ENOENT');
  });

  it('streams a real file', async () => {
    const dir = scratchDir();
    const file = join(dir, 'entries.csv');
    const lines = ['namespace,id,status'];
    for (let i = 0; i < 20_000; i++) lines.push(`citizen,${String(46_199_000_000 + i).padStart(12, '0')},allow`);
    writeFileSync(file, lines.join('\n'));
    let count = 0;
    let last: EntryRow | undefined;
    for await (const row of readEntriesCsv(createReadStream(file))) {
      count++;
      last = row;
    }
    expect(count).toBe(20_000);
    expect(last).toEqual({ line: 20_001, namespace: 'citizen', id: '046199019999', status: 'allow' });
  });
});

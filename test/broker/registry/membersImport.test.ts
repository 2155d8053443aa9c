import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadCentralConfig, type CentralConfig } from '../../../broker/config.js';
import { importMembers, MembersImportError, previewMembersImport, type ImportProgress } from '../../../broker/registry/membersImport.js';
import { openRegistryDb, registryRefHasher } from '../../../broker/registry/registryDb.js';
import type { CentralDb } from '../../../broker/store/sqliteSchema.js';
import { refToHex } from '../../../protocol/credentialRef.js';
import { writeLocalCentral } from '../../../provisioning/localCentral.js';
import { sampleMemberLine, writeSampleMembersCsv } from '../../../provisioning/membersSample.js';
import { sampleIdNumber } from '../../../provisioning/samplePeople.js';
import { useTempDir } from '../../helpers/tempDir.js';

const HEADER = 'name,phone,address,unit,scope,idNumber,status';
const tempDir = useTempDir('qrgate-members-import-');

interface StoredMember {
  id_ref: Buffer;
  id_masked: string;
  name: string;
  phone: string;
  address: string;
  unit: string;
  scope: string;
  status: string;
  created_at_ms: number;
  updated_at_ms: number;
}

function registry() {
  const dir = tempDir();
  const config: CentralConfig = loadCentralConfig(writeLocalCentral(dir));
  const db = openRegistryDb(config);
  const hasher = registryRefHasher(config);
  const run = (csv: string, nowMs = 1_000) => importMembers({ db, hasher, input: Readable.from([Buffer.from(csv)]), nowMs: () => nowMs });
  const members = () => db.prepare('SELECT * FROM members ORDER BY name').all() as StoredMember[];
  const refuse = async (csv: string): Promise<MembersImportError> => {
    const failure = await run(csv).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(MembersImportError);
    return failure as MembersImportError;
  };
  return { dir, config, db, hasher, run, members, refuse };
}

const person = (name: string, id: string, extra: Partial<Record<'phone' | 'address' | 'unit' | 'scope' | 'status', string>> = {}) =>
  [name, extra.phone ?? '0905123456', extra.address ?? '"1 Lê Lợi, Huế"', extra.unit ?? 'Công ty May Huế', extra.scope ?? 'site-a', id, extra.status ?? 'allow'].join(',');

const ids = ['046085000101', '046185000102', '046085000103', '191234567'];

function close(db: CentralDb) {
  db.close();
}

describe('members import', () => {
  it('stores refs and masked ids, with names, phones and addresses exactly as written in Vietnamese', async () => {
    const r = registry();
    const csv = [HEADER, person('Nguyễn Văn An', ids[0]!), person('Trần Thị Bích Hằng', ids[1]!, { phone: '+84 914.000-111', address: '' }), person('Đặng Hữu Phúc', ids[3]!, { status: 'check' })].join('\r\n');
    expect(await r.run(csv)).toMatchObject({ rows: 3, added: 3, updated: 0, unchanged: 0 });
    expect(r.members()).toEqual([
      expect.objectContaining({ name: 'Nguyễn Văn An', id_masked: '*********101', phone: '0905123456', address: '1 Lê Lợi, Huế', unit: 'Công ty May Huế', scope: 'site-a', status: 'allow' }),
      expect.objectContaining({ name: 'Trần Thị Bích Hằng', id_masked: '*********102', phone: '+84914000111', address: '' }),
      expect.objectContaining({ name: 'Đặng Hữu Phúc', id_masked: '******567', status: 'check' }),
    ]);
    // The ref is the one a terminal computes from a CCCD scan of the same number.
    const an = r.members().find((m) => m.name === 'Nguyễn Văn An')!;
    expect(refToHex(an.id_ref)).toBe(refToHex(r.hasher('citizen', ids[0]!)));
    close(r.db);
  });

  it('upserts by ID number: counts added, updated and unchanged, and moves updated_at only on a change', async () => {
    const r = registry();
    await r.run([HEADER, person('An', ids[0]!), person('Bình', ids[1]!), person('Châu', ids[2]!)].join('\n'), 1_000);
    const second = [HEADER, person('An', ids[0]!), person('Bình', ids[1]!, { status: 'deny' }), person('Châu', ids[2]!, { unit: 'Tổ 5' }), person('Dũng', ids[3]!)].join('\n');
    expect(await r.run(second, 2_000)).toMatchObject({ rows: 4, added: 1, updated: 2, unchanged: 1 });
    expect(r.members().map((m) => [m.name, m.status, m.unit, m.created_at_ms, m.updated_at_ms])).toEqual([
      ['An', 'allow', 'Công ty May Huế', 1_000, 1_000],
      ['Bình', 'deny', 'Công ty May Huế', 1_000, 2_000],
      ['Châu', 'allow', 'Tổ 5', 1_000, 2_000],
      ['Dũng', 'allow', 'Công ty May Huế', 2_000, 2_000],
    ]);
    // The same name written with combining marks is the same name: unchanged.
    const decomposed = [HEADER, person('An', ids[0]!), person('Bi\u0300nh', ids[1]!, { status: 'deny' })].join('\n');
    expect(await r.run(decomposed, 3_000)).toMatchObject({ rows: 2, added: 0, updated: 0, unchanged: 2 });
    close(r.db);
  });

  it('reports every bad row by line and field, imports nothing, and leaves the registry as it was', async () => {
    const r = registry();
    await r.run([HEADER, person('An', ids[0]!)].join('\n'));
    const before = r.members();
    const csv = [
      HEADER,
      person('An changed', ids[0]!),
      person('', '04608500011'),
      person('Bình', ids[1]!, { phone: '12' }),
      person('Châu', ids[2]!, { scope: 'Site A', status: 'ok' }),
    ].join('\n');
    const failure = await r.refuse(csv);
    expect(failure.message).toBe('5 problems in the members file; nothing was imported');
    expect(failure.problems).toEqual([
      { line: 3, field: 'name', kind: 'invalid', message: 'is empty' },
      { line: 3, field: 'idNumber', kind: 'invalid', message: expect.stringContaining('ID number has 11 digits') },
      { line: 4, field: 'phone', kind: 'invalid', message: 'has 2 digits, expected 8 to 15' },
      { line: 5, field: 'scope', kind: 'invalid', message: expect.stringMatching(/^must be lowercase/) },
      { line: 5, field: 'status', kind: 'invalid', message: 'must be allow, deny, check' },
    ]);
    expect(failure.rows).toBe(4);
    expect(r.members()).toEqual(before);
    close(r.db);
  });

  it('previews a file with the same checks and writes nothing: every bad line, the good lines counted, the new people among them', async () => {
    const r = registry();
    await r.run([HEADER, person('An', ids[0]!), person('Bình', ids[1]!, { unit: 'Đơn vị khác' })].join('\n'));
    const before = r.members();
    const preview = (csv: string, onlyUnit?: string) =>
      previewMembersImport({ db: r.db, hasher: r.hasher, input: Readable.from([Buffer.from(csv)]), ...(onlyUnit === undefined ? {} : { onlyUnit }) });
    const bad = [
      HEADER,
      person('An changed', ids[0]!),
      person('Châu', ids[2]!, { phone: '12' }),
      person('An again', ids[0]!),
      person('Bình moved', ids[1]!),
      person('Dũng', ids[3]!, { unit: 'Xưởng khác' }),
    ].join('\n');
    // A manager of "Công ty May Huế": Bình is another unit's person, Dũng's row names another unit.
    expect(await preview(bad, 'Công ty May Huế')).toEqual({
      rows: 5,
      goodRows: 1,
      newMembers: 0,
      problemCount: 4,
      problems: [
        { line: 3, field: 'phone', kind: 'invalid', message: 'has 2 digits, expected 8 to 15' },
        { line: 4, field: 'idNumber', kind: 'repeated', message: 'is the same ID number as line 2', firstLine: 2 },
        { line: 5, field: 'idNumber', kind: 'other-unit', message: expect.stringContaining('registered in another unit') },
        { line: 6, field: 'unit', kind: 'not-your-unit', message: 'is not Công ty May Huế, the unit you manage' },
      ],
    });
    // The same rows from an admin: moving Bình and adding Dũng are fine; the previous import's refusal is the same.
    const good = [HEADER, person('An changed', ids[0]!), person('Bình moved', ids[1]!), person('Châu', ids[2]!), person('Dũng', ids[3]!)].join('\n');
    expect(await preview(good)).toEqual({ rows: 4, goodRows: 4, newMembers: 2, problemCount: 0, problems: [] });
    expect(r.members()).toEqual(before);
    // The temp table is gone: the real import after a preview starts from a clean slate.
    expect(await r.run(good, 2_000)).toMatchObject({ rows: 4, added: 2, updated: 2, unchanged: 0 });
    expect(await preview('name,phone\n')).toMatchObject({ rows: 0, goodRows: 0, problemCount: 1, problems: [{ line: 1, kind: 'header' }] });
    close(r.db);
  });

  it('names both lines of a repeated ID number, however it was written', async () => {
    const r = registry();
    const csv = [HEADER, person('An', ids[0]!), person('Bình', ids[1]!), person('An again', `${ids[0]!.slice(0, 6)} ${ids[0]!.slice(6)}`), person('Bình again', ids[1]!)].join('\n');
    const failure = await r.refuse(csv);
    expect(failure.problems).toEqual([
      { line: 4, field: 'idNumber', kind: 'repeated', message: 'is the same ID number as line 2', firstLine: 2 },
      { line: 5, field: 'idNumber', kind: 'repeated', message: 'is the same ID number as line 3', firstLine: 3 },
    ]);
    expect(r.members()).toEqual([]);
    close(r.db);
  });

  it('keeps the first 50 problems in line order and counts the rest', async () => {
    const r = registry();
    const lines = [HEADER];
    // Every third row good, then one with a bad phone, then one repeating the good row's ID.
    const bad: number[] = [];
    for (let i = 0; i < 120; i++) {
      if (i % 3 === 0) lines.push(person(`P${i}`, sampleIdNumber(i)));
      else if (i % 3 === 1) lines.push(person(`P${i}`, sampleIdNumber(i), { phone: '1' }));
      else lines.push(person(`P${i}`, sampleIdNumber(i - 2)));
      if (i % 3 !== 0) bad.push(i + 2);
    }
    const failure = await r.refuse(lines.join('\n'));
    expect(failure.problemCount).toBe(80);
    expect(failure.problems.map((p) => p.line)).toEqual(bad.slice(0, 50));
    expect(failure.problems.slice(0, 2)).toEqual([
      { line: 3, field: 'phone', kind: 'invalid', message: 'has 1 digit, expected 8 to 15' },
      { line: 4, field: 'idNumber', kind: 'repeated', message: 'is the same ID number as line 2', firstLine: 2 },
    ]);
    close(r.db);
  });

  it('imports nothing from a file whose CSV breaks half way, naming the broken line', async () => {
    const r = registry();
    const csv = [HEADER, person('An', ids[0]!), 'Bình,0905123456,"a"b,Unit,site-a,046185000102,allow', person('Châu', ids[2]!)].join('\n');
    const failure = await r.refuse(csv);
    expect(failure.problems.at(-1)).toMatchObject({ line: 3, field: null, message: expect.stringContaining('not valid CSV') });
    expect(r.members()).toEqual([]);
    const header = await r.refuse('name,phone\nAn,0905123456\n');
    expect(header.problems).toEqual([{ line: 1, field: null, kind: 'header', message: `the header must be exactly ${HEADER}` }]);
    close(r.db);
  });

  it('never writes a raw ID number into the database files, and never puts one in a problem', async () => {
    const r = registry();
    const good = [HEADER, ...ids.map((id, i) => person(`Người ${i}`, id))].join('\n');
    await r.run(good);
    const bad = [HEADER, person('X', '046085000999', { status: 'no' }), person('Y', '046085000999')].join('\n');
    const failure = await r.refuse(bad);
    expect(JSON.stringify(failure.problems)).not.toContain('046085000999');
    r.db.pragma('wal_checkpoint(PASSIVE)');
    const dataDir = r.config.dataDir;
    const bytes = readdirSync(dataDir).map((file) => readFileSync(join(dataDir, file)).toString('latin1')).join('');
    expect(bytes).toContain('*********101');
    for (const id of [...ids, '046085000999']) expect(bytes).not.toContain(id);
    close(r.db);
  });

  it('writes in chunks of its own transactions: the central commits between them, and the counts add up across chunks', async () => {
    const r = registry();
    const file = join(r.dir, 'people.csv');
    await writeSampleMembersCsv(file, 12_000, { scopes: ['site-a'] });
    // 2,000 of them already registered: updated (or unchanged), not added.
    await writeSampleMembersCsv(join(r.dir, 'first.csv'), 2_000, { scopes: ['site-a'], seed: 2 });
    await importMembers({ db: r.db, hasher: r.hasher, input: createReadStream(join(r.dir, 'first.csv')) });
    const central = openRegistryDb(r.config);
    // No waiting at all: a commit gets in only if the lock is free when it asks.
    central.pragma('busy_timeout = 0');
    const countMembers = central.prepare('SELECT count(*) FROM members').pluck();
    const seen: number[] = [];
    const committed: string[] = [];
    let done = false;
    const between = (): void => {
      if (done) return;
      seen.push(countMembers.get() as number);
      const code = `9${String(committed.length).padStart(13, '0')}`;
      try {
        central.prepare("INSERT INTO checkpoints (code, name, direction, confirm, created_at_ms) VALUES (?, 'Gate', 'in', 'auto', 0)").run(code);
        committed.push(code);
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      }
      setImmediate(between);
    };
    setImmediate(between);
    const result = await importMembers({ db: r.db, hasher: r.hasher, input: createReadStream(file), chunkRows: 1_000 });
    done = true;
    expect(result).toMatchObject({ rows: 12_000, added: 10_000 });
    expect(result.updated + result.unchanged).toBe(2_000);
    expect(countMembers.get()).toBe(12_000);
    // Half-way states were visible, and the central's own writes went in while the import ran.
    expect(seen.some((n) => n > 2_000 && n < 12_000)).toBe(true);
    expect(committed.length).toBeGreaterThan(0);
    central.close();
    close(r.db);
  });

  it('imports 20,000 sample people with progress, and the central can write to the file while the rows are read', async () => {
    const r = registry();
    const file = join(r.dir, 'people.csv');
    await writeSampleMembersCsv(file, 20_000, { scopes: ['site-a', 'site-b'], crlf: true });
    const central = openRegistryDb(r.config);
    central.pragma('busy_timeout = 0');
    const progress: ImportProgress[] = [];
    const result = await importMembers({
      db: r.db,
      hasher: r.hasher,
      input: createReadStream(file),
      progressEveryRows: 5_000,
      onProgress: (p) => {
        progress.push(p);
        // Would throw SQLITE_BUSY at once if the import held the write lock while reading.
        if (p.phase === 'reading') central.prepare("INSERT INTO checkpoints (code, name, direction, confirm, created_at_ms) VALUES (?, 'Gate', 'in', 'auto', 0)").run(`9${String(p.rows).padStart(13, '0')}`);
      },
    });
    central.close();
    expect(result).toMatchObject({ rows: 20_000, added: 20_000, updated: 0, unchanged: 0 });
    expect(progress.map((p) => [p.phase, p.rows])).toEqual([
      ['reading', 5_000],
      ['reading', 10_000],
      ['reading', 15_000],
      ['reading', 20_000],
      ['writing', 20_000],
    ]);
    expect(r.db.prepare('SELECT scope, count(*) AS n FROM members GROUP BY scope').all()).toEqual([
      { scope: 'site-a', n: 10_000 },
      { scope: 'site-b', n: 10_000 },
    ]);
    // Row 7 of the file is person 6: the same text comes back out of the registry.
    const [name] = sampleMemberLine(6).split(',');
    const stored = r.db.prepare('SELECT name, id_masked FROM members WHERE id_ref = ?').get(r.hasher('citizen', sampleIdNumber(6)));
    expect(stored).toEqual({ name, id_masked: `*********${sampleIdNumber(6).slice(-3)}` });

    // The same people with other details: every row an update or unchanged, none added.
    await writeSampleMembersCsv(file, 20_000, { scopes: ['site-a', 'site-b'], seed: 2 });
    const again = await importMembers({ db: r.db, hasher: r.hasher, input: createReadStream(file) });
    expect(again.added).toBe(0);
    expect(again.updated + again.unchanged).toBe(20_000);
    expect(again.updated).toBeGreaterThan(19_000);
    close(r.db);
  });
});

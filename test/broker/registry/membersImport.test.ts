import { randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { abandonedStagingAfterMs, importMembers, MembersImportError, previewMembersImport, stagingTableName, type ImportProgress } from '../../../broker/registry/membersImport.js';
import type { RegistryDb, SqlDialect } from '../../../broker/store/sql/registryDb.js';
import { SqliteRegistryDb } from '../../../broker/store/sql/sqliteRegistryDb.js';
import { openCentralDb } from '../../../broker/store/sqliteSchema.js';
import { createRefHasher, refKeyLength, refToHex } from '../../../protocol/credentialRef.js';
import { sampleMemberLine, writeSampleMembersCsv } from '../../../provisioning/membersSample.js';
import { sampleIdNumber } from '../../../provisioning/samplePeople.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { describeOnEachRegistry } from '../../helpers/registryEngines.js';
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

const memberColumns = 'id_ref, id_masked, name, phone, address, unit, scope, status, created_at_ms, updated_at_ms';

function importer(db: RegistryDb) {
  const dir = tempDir();
  const hasher = createRefHasher(randomBytes(refKeyLength));
  const run = (csv: string, nowMs = 1_000) => importMembers({ db, hasher, input: Readable.from([Buffer.from(csv)]), nowMs: () => nowMs });
  // Byte order, the same on both engines (PostgreSQL would sort text by its collation).
  const members = async () => (await db.all<StoredMember>(`SELECT ${memberColumns} FROM members`)).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const count = async () => Number(await db.value<number>('SELECT count(*) FROM members'));
  const refuse = async (csv: string): Promise<MembersImportError> => {
    const failure = await run(csv).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(MembersImportError);
    return failure as MembersImportError;
  };
  return { dir, db, hasher, run, members, count, refuse };
}

/** Staging tables left behind by an import: none, whatever happened. */
async function stagingTables(db: RegistryDb): Promise<number> {
  const sql =
    db.dialect === 'sqlite'
      ? "SELECT count(*) FROM sqlite_temp_master WHERE type = 'table' AND name LIKE 'member_import%'"
      : "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'member_import%'";
  return Number(await db.value<number>(sql));
}

/**
 * Another writer to the same registry, as the central is to a CLI import: on SQLite its own
 * connection that never waits for the lock (a commit gets in only if the lock is free when it
 * asks); on PostgreSQL the pool's other connections.
 */
function centralWriter(db: RegistryDb, engine: SqlDialect): { db: RegistryDb; close: () => void } {
  if (engine === 'postgres') return { db, close: () => undefined };
  const connection = openCentralDb((db as SqliteRegistryDb).connection.name, { synchronous: 'NORMAL' });
  connection.pragma('busy_timeout = 0');
  return { db: new SqliteRegistryDb(connection), close: () => connection.close() };
}

const person = (name: string, id: string, extra: Partial<Record<'phone' | 'address' | 'unit' | 'scope' | 'status', string>> = {}) =>
  [name, extra.phone ?? '0905123456', extra.address ?? '"1 Lê Lợi, Huế"', extra.unit ?? 'Công ty May Huế', extra.scope ?? 'site-a', id, extra.status ?? 'allow'].join(',');

const ids = ['046085000101', '046185000102', '046085000103', '191234567'];

describeOnEachRegistry('members import', (registry, engine) => {
  it('stores refs and masked ids, with names, phones and addresses exactly as written in Vietnamese', async () => {
    const r = importer(registry());
    const csv = [HEADER, person('Nguyễn Văn An', ids[0]!), person('Trần Thị Bích Hằng', ids[1]!, { phone: '+84 914.000-111', address: '' }), person('Đặng Hữu Phúc', ids[3]!, { status: 'check' })].join('\r\n');
    expect(await r.run(csv)).toMatchObject({ rows: 3, added: 3, updated: 0, unchanged: 0 });
    expect((await r.members())).toEqual([
      expect.objectContaining({ name: 'Nguyễn Văn An', id_masked: '*********101', phone: '0905123456', address: '1 Lê Lợi, Huế', unit: 'Công ty May Huế', scope: 'site-a', status: 'allow' }),
      expect.objectContaining({ name: 'Trần Thị Bích Hằng', id_masked: '*********102', phone: '+84914000111', address: '' }),
      expect.objectContaining({ name: 'Đặng Hữu Phúc', id_masked: '******567', status: 'check' }),
    ]);
    // The ref is the one a terminal computes from a CCCD scan of the same number.
    const an = (await r.members()).find((m) => m.name === 'Nguyễn Văn An')!;
    expect(refToHex(an.id_ref)).toBe(refToHex(r.hasher('citizen', ids[0]!)));
  });

  it('upserts by ID number: counts added, updated and unchanged, and moves updated_at only on a change', async () => {
    const r = importer(registry());
    await r.run([HEADER, person('An', ids[0]!), person('Bình', ids[1]!), person('Châu', ids[2]!)].join('\n'), 1_000);
    const second = [HEADER, person('An', ids[0]!), person('Bình', ids[1]!, { status: 'deny' }), person('Châu', ids[2]!, { unit: 'Tổ 5' }), person('Dũng', ids[3]!)].join('\n');
    expect(await r.run(second, 2_000)).toMatchObject({ rows: 4, added: 1, updated: 2, unchanged: 1 });
    expect((await r.members()).map((m) => [m.name, m.status, m.unit, m.created_at_ms, m.updated_at_ms])).toEqual([
      ['An', 'allow', 'Công ty May Huế', 1_000, 1_000],
      ['Bình', 'deny', 'Công ty May Huế', 1_000, 2_000],
      ['Châu', 'allow', 'Tổ 5', 1_000, 2_000],
      ['Dũng', 'allow', 'Công ty May Huế', 2_000, 2_000],
    ]);
    // The same name written with combining marks is the same name: unchanged.
    const decomposed = [HEADER, person('An', ids[0]!), person('Bi\u0300nh', ids[1]!, { status: 'deny' })].join('\n');
    expect(await r.run(decomposed, 3_000)).toMatchObject({ rows: 2, added: 0, updated: 0, unchanged: 2 });
  });

  it('reports every bad row by line and field, imports nothing, and leaves the registry as it was', async () => {
    const r = importer(registry());
    await r.run([HEADER, person('An', ids[0]!)].join('\n'));
    const before = await r.members();
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
    expect(await r.members()).toEqual(before);
  });

  it('previews a file with the same checks and writes nothing: every bad line, the good lines counted, the new people among them', async () => {
    const r = importer(registry());
    await r.run([HEADER, person('An', ids[0]!), person('Bình', ids[1]!, { unit: 'Đơn vị khác' })].join('\n'));
    const before = await r.members();
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
    expect(await r.members()).toEqual(before);
    // The staging table is gone: the real import after a preview starts from a clean slate.
    expect(await stagingTables(r.db)).toBe(0);
    expect(await r.run(good, 2_000)).toMatchObject({ rows: 4, added: 2, updated: 2, unchanged: 0 });
    expect(await preview('name,phone\n')).toMatchObject({ rows: 0, goodRows: 0, problemCount: 1, problems: [{ line: 1, kind: 'header' }] });
  });

  it('names both lines of a repeated ID number, however it was written', async () => {
    const r = importer(registry());
    const csv = [HEADER, person('An', ids[0]!), person('Bình', ids[1]!), person('An again', `${ids[0]!.slice(0, 6)} ${ids[0]!.slice(6)}`), person('Bình again', ids[1]!)].join('\n');
    const failure = await r.refuse(csv);
    expect(failure.problems).toEqual([
      { line: 4, field: 'idNumber', kind: 'repeated', message: 'is the same ID number as line 2', firstLine: 2 },
      { line: 5, field: 'idNumber', kind: 'repeated', message: 'is the same ID number as line 3', firstLine: 3 },
    ]);
    expect(await r.members()).toEqual([]);
  });

  it('keeps the first 50 problems in line order and counts the rest', async () => {
    const r = importer(registry());
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
  });

  it('imports nothing from a file whose CSV breaks half way, naming the broken line', async () => {
    const r = importer(registry());
    const csv = [HEADER, person('An', ids[0]!), 'Bình,0905123456,"a"b,Unit,site-a,046185000102,allow', person('Châu', ids[2]!)].join('\n');
    const failure = await r.refuse(csv);
    expect(failure.problems.at(-1)).toMatchObject({ line: 3, field: null, message: expect.stringContaining('not valid CSV') });
    expect(await r.members()).toEqual([]);
    const header = await r.refuse('name,phone\nAn,0905123456\n');
    expect(header.problems).toEqual([{ line: 1, field: null, kind: 'header', message: `the header must be exactly ${HEADER}` }]);
  });

  it('never writes a raw ID number into the registry (nor, on SQLite, into its files), and never puts one in a problem', async () => {
    const r = importer(registry());
    const good = [HEADER, ...ids.map((id, i) => person(`Người ${i}`, id))].join('\n');
    await r.run(good);
    const bad = [HEADER, person('X', '046085000999', { status: 'no' }), person('Y', '046085000999')].join('\n');
    const failure = await r.refuse(bad);
    expect(JSON.stringify(failure.problems)).not.toContain('046085000999');
    const stored = JSON.stringify(await r.members());
    expect(stored).toContain('*********101');
    for (const id of [...ids, '046085000999']) expect(stored).not.toContain(id);
    if (engine === 'sqlite') {
      const connection = (r.db as SqliteRegistryDb).connection;
      connection.pragma('wal_checkpoint(PASSIVE)');
      const dataDir = dirname(connection.name);
      const bytes = readdirSync(dataDir).map((file) => readFileSync(join(dataDir, file)).toString('latin1')).join('');
      expect(bytes).toContain('*********101');
      for (const id of [...ids, '046085000999']) expect(bytes).not.toContain(id);
    }
    expect(await stagingTables(r.db)).toBe(0);
  });

  it('writes in chunks of its own transactions: the central commits between them, and the counts add up across chunks', async () => {
    const r = importer(registry());
    const file = join(r.dir, 'people.csv');
    await writeSampleMembersCsv(file, 12_000, { scopes: ['site-a'] });
    // 2,000 of them already registered: updated (or unchanged), not added.
    await writeSampleMembersCsv(join(r.dir, 'first.csv'), 2_000, { scopes: ['site-a'], seed: 2 });
    await importMembers({ db: r.db, hasher: r.hasher, input: createReadStream(join(r.dir, 'first.csv')) });
    const central = centralWriter(r.db, engine);
    // Each of the central's commits with the member count just before and just after it.
    const commits: { before: number; after: number }[] = [];
    let done = false;
    const writeMeanwhile = async (): Promise<void> => {
      while (!done) {
        const before = Number(await central.db.value<number>('SELECT count(*) FROM members'));
        try {
          await central.db.run('INSERT INTO roll_calls (unit, started_at_ms, started_by) VALUES (?, ?, ?)', ['Tổ 1', commits.length, 'central']);
          commits.push({ before, after: Number(await central.db.value<number>('SELECT count(*) FROM members')) });
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const meanwhile = writeMeanwhile();
    const result = await importMembers({ db: r.db, hasher: r.hasher, input: createReadStream(file), chunkRows: 1_000 }).finally(() => {
      done = true;
    });
    await meanwhile;
    central.close();
    expect(result).toMatchObject({ rows: 12_000, added: 10_000 });
    expect(result.updated + result.unchanged).toBe(2_000);
    expect(await r.count()).toBe(12_000);
    // A commit of the central's went in after some chunks were written and before the last:
    // between two chunks, not before or after one long transaction.
    expect(commits.some((c) => c.before > 2_000 && c.after < 12_000)).toBe(true);
  });

  it('imports 20,000 sample people with progress, and the central can write while the rows are read', async () => {
    const r = importer(registry());
    const file = join(r.dir, 'people.csv');
    await writeSampleMembersCsv(file, 20_000, { scopes: ['site-a', 'site-b'], crlf: true });
    const central = centralWriter(r.db, engine);
    const progress: ImportProgress[] = [];
    const writes: Promise<number>[] = [];
    const result = await importMembers({
      db: r.db,
      hasher: r.hasher,
      input: createReadStream(file),
      progressEveryRows: 5_000,
      onProgress: (p) => {
        progress.push(p);
        // On SQLite this rejects with SQLITE_BUSY if the import held the write lock while reading.
        if (p.phase === 'reading') writes.push(central.db.run('INSERT INTO roll_calls (unit, started_at_ms, started_by) VALUES (?, ?, ?)', ['Tổ 1', p.rows, 'central']));
      },
    });
    expect(await Promise.all(writes)).toEqual([1, 1, 1, 1]);
    central.close();
    expect(result).toMatchObject({ rows: 20_000, added: 20_000, updated: 0, unchanged: 0 });
    expect(progress.map((p) => [p.phase, p.rows])).toEqual([
      ['reading', 5_000],
      ['reading', 10_000],
      ['reading', 15_000],
      ['reading', 20_000],
      ['writing', 20_000],
    ]);
    const scopes = await r.db.all<{ scope: string; n: number }>('SELECT scope, count(*) AS n FROM members GROUP BY scope ORDER BY scope');
    expect(scopes.map(({ scope, n }) => ({ scope, n: Number(n) }))).toEqual([
      { scope: 'site-a', n: 10_000 },
      { scope: 'site-b', n: 10_000 },
    ]);
    // Row 7 of the file is person 6: the same text comes back out of the registry.
    const [name] = sampleMemberLine(6).split(',');
    const stored = await r.db.get('SELECT name, id_masked FROM members WHERE id_ref = ?', [r.hasher('citizen', sampleIdNumber(6))]);
    expect(stored).toEqual({ name, id_masked: `*********${sampleIdNumber(6).slice(-3)}` });

    // The same people with other details: every row an update or unchanged, none added.
    await writeSampleMembersCsv(file, 20_000, { scopes: ['site-a', 'site-b'], seed: 2 });
    const again = await importMembers({ db: r.db, hasher: r.hasher, input: createReadStream(file) });
    expect(again.added).toBe(0);
    expect(again.updated + again.unchanged).toBe(20_000);
    expect(again.updated).toBeGreaterThan(19_000);
  });

  // PostgreSQL's staging table is UNLOGGED, not TEMP: one left by an import that was killed
  // (it holds names, phones and addresses) outlives the process. SQLite's TEMP table cannot.
  if (engine === 'postgres') {
    it('drops the staging table a killed import left behind, and never a running import\'s', async () => {
      const r = importer(registry());
      const staging = (table: string) => r.db.run(`CREATE UNLOGGED TABLE ${table} (name TEXT NOT NULL)`).then(() => r.db.run(`INSERT INTO ${table} VALUES ('Nguyễn Văn An')`));
      const dead = stagingTableName(Date.now() - abandonedStagingAfterMs - 60_000);
      const olderForm = `member_import_${randomBytes(8).toString('hex')}`;
      const running = stagingTableName(Date.now() - 60_000);
      for (const table of [dead, olderForm, running]) await staging(table);
      const log = captureLogger();
      await importMembers({ db: r.db, hasher: r.hasher, input: Readable.from([Buffer.from([HEADER, person('An', ids[0]!)].join('\n'))]), logger: log.logger });
      const left = await r.db.column<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'member_import%'");
      expect(left).toEqual([running]);
      expect(log.messages('members.import-staging-dropped').map((entry) => entry.table).sort()).toEqual([dead, olderForm].sort());
      await r.db.run(`DROP TABLE ${running}`);
    });
  }
});

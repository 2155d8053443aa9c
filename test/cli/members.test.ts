import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCentralConfig } from '../../broker/config.js';
import { openRegistryDb, registryRefHasher, withRegistryDb } from '../../broker/registry/registryDb.js';
import { UsageError } from '../../cli/command.js';
import { run as membersImport } from '../../cli/commands/membersImport.js';
import { run as membersRemove } from '../../cli/commands/membersRemove.js';
import { run as membersSetStatus } from '../../cli/commands/membersSetStatus.js';
import { run as membersUpdate } from '../../cli/commands/membersUpdate.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { writeSampleMembersCsv } from '../../provisioning/membersSample.js';
import { cliContext } from '../helpers/cliContext.js';
import { useTempDir } from '../helpers/tempDir.js';

const HEADER = 'name,phone,address,unit,scope,idNumber,status';
const AN = '046085000101';
const BINH = '046185000102';

const tempDir = useTempDir('qrgate-cli-members-');

describe('qrgate members', () => {
  /** A central folder with An and Bình registered through the command itself. */
  async function site() {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const csv = join(dir, 'people.csv');
    writeFileSync(
      csv,
      `\uFEFF${HEADER}\r\nNguyễn Văn An,0905 123 456,"12 Lê Lợi, Phường Phú Hội, Huế",Công ty May Huế,site-a,${AN},allow\r\n` +
        `Trần Thị Bình,0914000111,,Tổ 5,site-a,${BINH},check\r\n`,
    );
    const c = cliContext(['--central-config', centralConfig, csv]);
    expect(await membersImport(c.ctx)).toBe(0);
    const config = loadCentralConfig(centralConfig);
    const member = (id: string) =>
      withRegistryDb(config, (db) => db.prepare('SELECT name, phone, address, unit, scope, status, id_masked AS idMasked, updated_at_ms AS updatedAtMs FROM members WHERE id_ref = ?').get(registryRefHasher(config)('citizen', id)));
    const outputs = [c.out(), c.err()];
    const run = async (command: typeof membersImport, argv: string[]) => {
      const ran = cliContext(argv);
      const code = await command(ran.ctx);
      outputs.push(ran.out(), ran.err());
      return { code, out: ran.out(), err: ran.err() };
    };
    return { dir, centralConfig, config, csv, first: c, member, run, outputs };
  }

  describe('import', () => {
    it('adds people, then says what a second import changed; --json prints one object', async () => {
      const s = await site();
      expect(s.first.out()).toMatch(/^members imported from .*people\.csv: 2 rows, 2 added, 0 updated, 0 unchanged \(\d+\.\d s\)\n$/);
      expect(s.first.err()).toBe('qrgate members import: 2 rows checked, writing them to the registry\n');
      expect(await s.member(AN)).toMatchObject({ name: 'Nguyễn Văn An', phone: '0905123456', address: '12 Lê Lợi, Phường Phú Hội, Huế', idMasked: '*********101' });

      writeFileSync(s.csv, `${HEADER}\nNguyễn Văn An,0905123456,"12 Lê Lợi, Phường Phú Hội, Huế",Công ty May Huế,site-a,${AN},deny\nLê Châu,0905000000,,Tổ 5,site-b,046085000103,allow\n`);
      const again = await s.run(membersImport, ['--central-config', s.centralConfig, s.csv, '--json']);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.out)).toEqual({ rows: 2, added: 1, updated: 1, unchanged: 0, elapsedMs: expect.any(Number) });
      expect(again.out.trim().split('\n')).toHaveLength(1);
    });

    it('shows progress on stderr every 100,000 rows', async () => {
      const s = await site();
      const big = join(s.dir, 'big.csv');
      await writeSampleMembersCsv(big, 100_000);
      const result = await s.run(membersImport, ['--central-config', s.centralConfig, big, '--json']);
      expect(result.code).toBe(0);
      expect(result.err).toMatch(/^qrgate members import: 100,000 rows read \([\d,]+ rows\/s\)\nqrgate members import: 100,000 rows checked, writing them to the registry\n$/);
      expect(JSON.parse(result.out)).toMatchObject({ rows: 100_000, added: 100_000 });
    }, 60_000);

    it('lists every bad row, exits 1 and changes nothing; with --json the problems are on stdout too', async () => {
      const s = await site();
      const before = await s.member(AN);
      const bad = join(s.dir, 'bad.csv');
      writeFileSync(bad, [HEADER, `An,0905123456,,Unit,site-a,${AN},deny`, 'Bình,12,,Unit,site-a,04618500010,allow', `Châu,0905123456,,,site-a,${AN},allow`].join('\n'));
      const result = await s.run(membersImport, ['--central-config', s.centralConfig, bad, '--json']);
      expect(result.code).toBe(1);
      expect(result.err).toBe(
        [
          `qrgate members import: ${bad}: 4 problems in the members file; nothing was imported`,
          '  line 3: phone has 2 digits, expected 8 to 15',
          '  line 3: idNumber ID number has 11 digits, expected 9 (CMND) or 12 (CCCD) (leading zeros lost in a spreadsheet? format the column as text)',
          '  line 4: unit is empty',
          '  line 4: idNumber is the same ID number as line 2',
          '',
        ].join('\n'),
      );
      expect(JSON.parse(result.out)).toMatchObject({ error: 'members-invalid', rows: 3, problemCount: 4, problems: expect.arrayContaining([{ line: 4, field: 'unit', kind: 'invalid', message: 'is empty' }]) });
      expect(await s.member(AN)).toEqual(before);
    });

    it('caps the list at 50 and says how many more', async () => {
      const s = await site();
      const bad = join(s.dir, 'bad.csv');
      writeFileSync(bad, [HEADER, ...Array.from({ length: 75 }, (_, i) => `P${i},1,,Unit,site-a,${String(46_085_000_200 + i).padStart(12, '0')},allow`)].join('\n'));
      const result = await s.run(membersImport, ['--central-config', s.centralConfig, bad]);
      expect(result.code).toBe(1);
      const lines = result.err.trim().split('\n');
      expect(lines).toHaveLength(52);
      expect(lines.at(-1)).toBe('  … and 25 more');
    });

    it('refuses a missing file and wrong arguments', async () => {
      const s = await site();
      await expect(membersImport(cliContext(['--central-config', s.centralConfig, join(s.dir, 'nope.csv')]).ctx)).rejects.toMatchObject({
        code: 'unreadable',
        message: 'cannot read the members file: ENOENT',
      });
      await expect(membersImport(cliContext(['--central-config', s.centralConfig]).ctx)).rejects.toThrow(UsageError);
      await expect(membersImport(cliContext(['--central-config', s.centralConfig, s.csv, s.csv]).ctx)).rejects.toThrow(UsageError);
      await expect(membersImport(cliContext([s.csv]).ctx)).rejects.toThrow('missing --central-config');
    });
  });

  describe('update and set-status', () => {
    it('changes the given fields only, and says when nothing changed', async () => {
      const s = await site();
      const before = (await s.member(AN)) as { updatedAtMs: number };
      const changed = await s.run(membersUpdate, ['--central-config', s.centralConfig, '--id-number', AN, '--phone', '+84 905 999 888', '--unit', 'Nhà máy Bia Phú Bài']);
      expect(changed).toEqual({ code: 0, out: 'member *********101 updated: phone, unit\n', err: '' });
      expect(await s.member(AN)).toMatchObject({ name: 'Nguyễn Văn An', phone: '+84905999888', unit: 'Nhà máy Bia Phú Bài', scope: 'site-a' });

      const same = await s.run(membersUpdate, ['--central-config', s.centralConfig, '--id-number', AN, '--name', 'Nguyễn  Văn An', '--json']);
      expect(JSON.parse(same.out)).toEqual({ idMasked: '*********101', changed: [] });
      expect(((await s.member(AN)) as { updatedAtMs: number }).updatedAtMs).toBeGreaterThanOrEqual(before.updatedAtMs);

      const status = await s.run(membersSetStatus, ['--central-config', s.centralConfig, '--id-number', `${AN.slice(0, 4)} ${AN.slice(4)}`, '--status', 'deny']);
      expect(status.out).toBe('member *********101 updated: status\n');
      expect(await s.member(AN)).toMatchObject({ status: 'deny' });
      expect(await s.member(BINH)).toMatchObject({ status: 'check', phone: '0914000111' });
    });

    it('refuses bad values with every problem named, an unknown person, and an update with nothing in it', async () => {
      const s = await site();
      await expect(membersUpdate(cliContext(['--central-config', s.centralConfig, '--id-number', AN, '--phone', 'call me', '--scope', 'Site A']).ctx)).rejects.toMatchObject({
        code: 'member-invalid',
        message: '--phone may hold only digits, a leading "+", spaces, dots and dashes; --scope must be lowercase letters, digits, ".", "_" and "-" only, 1 to 64 characters',
      });
      await expect(membersSetStatus(cliContext(['--central-config', s.centralConfig, '--id-number', AN, '--status', 'open']).ctx)).rejects.toMatchObject({
        code: 'member-invalid',
        message: '--status must be allow, deny, check',
      });
      await expect(membersUpdate(cliContext(['--central-config', s.centralConfig, '--id-number', '046085000999', '--name', 'X']).ctx)).rejects.toMatchObject({
        code: 'member-unknown',
        message: 'no member is registered with ID number *********999',
      });
      await expect(membersUpdate(cliContext(['--central-config', s.centralConfig, '--id-number', '4608500099', '--name', 'X']).ctx)).rejects.toMatchObject({
        code: 'member-invalid',
        message: expect.stringMatching(/^--id-number ID number has 10 digits/),
      });
      await expect(membersUpdate(cliContext(['--central-config', s.centralConfig, '--id-number', AN]).ctx)).rejects.toThrow(UsageError);
      await expect(membersSetStatus(cliContext(['--central-config', s.centralConfig, '--id-number', AN]).ctx)).rejects.toThrow('missing --status');
      expect(await s.member(AN)).toMatchObject({ status: 'allow', phone: '0905123456' });
    });
  });

  describe('remove', () => {
    it('deletes the person and their cards, and refuses a second time', async () => {
      const s = await site();
      const db = openRegistryDb(s.config);
      const memberId = db.prepare('SELECT member_id FROM members WHERE id_ref = ?').pluck().get(registryRefHasher(s.config)('citizen', AN));
      const card = db.prepare('INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms, revoked_at_ms) VALUES (randomblob(32), ?, ?, 0, ?)');
      card.run('card-old', memberId, 1);
      card.run('card-new', memberId, null);
      db.close();

      const removed = await s.run(membersRemove, ['--central-config', s.centralConfig, '--id-number', AN]);
      expect(removed).toEqual({ code: 0, out: 'member *********101 removed, with 2 cards\n', err: '' });
      expect(await s.member(AN)).toBeUndefined();
      expect(await withRegistryDb(s.config, (d) => d.prepare('SELECT count(*) FROM cards').pluck().get())).toBe(0);
      expect(await s.member(BINH)).toMatchObject({ name: 'Trần Thị Bình' });

      await expect(membersRemove(cliContext(['--central-config', s.centralConfig, '--id-number', AN, '--json']).ctx)).rejects.toMatchObject({ code: 'member-unknown' });
      const json = await s.run(membersRemove, ['--central-config', s.centralConfig, '--id-number', BINH, '--json']);
      expect(JSON.parse(json.out)).toEqual({ idMasked: '*********102', cards: 0, removed: true });
    });
  });

  it('never prints a raw ID number, and never stores one', async () => {
    const s = await site();
    await s.run(membersUpdate, ['--central-config', s.centralConfig, '--id-number', AN, '--name', 'An']);
    await s.run(membersSetStatus, ['--central-config', s.centralConfig, '--id-number', BINH, '--status', 'allow', '--json']);
    await s.run(membersRemove, ['--central-config', s.centralConfig, '--id-number', BINH]);
    const printed = s.outputs.join('\n');
    expect(printed).toContain('*********101');
    const stored = readdirSync(s.config.dataDir).map((file) => readFileSync(join(s.config.dataDir, file)).toString('latin1')).join('');
    for (const id of [AN, BINH]) {
      expect(printed).not.toContain(id);
      expect(stored).not.toContain(id);
    }
  });
});

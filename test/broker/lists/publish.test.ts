import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockScope } from '../../../broker/lists/listFiles.js';
import { maxChainDeltas } from '../../../broker/lists/manifestBuilder.js';
import { publishList, type PublishListOptions } from '../../../broker/lists/publish.js';
import { openCentralDb, type CentralDb } from '../../../broker/store/sqliteSchema.js';
import { chunkOf, verifyManifest, verifySignedList, type ListHeader } from '../../../protocol/lists/index.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { addMember, addMembers, expectedList, issueCard, removeMember, revokeCard, setStatus } from './registryRows.js';

const scope = 'site-a';
const dayMs = 86_400_000;

describe('publishList: the next version of a scope from the registry', () => {
  const tempDir = useTempDir('qrgate-lists-publish-');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const open: CentralDb[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
  });

  function setup() {
    const dataDir = tempDir();
    const db = openCentralDb(join(dataDir, 'central.db'), { synchronous: 'NORMAL' });
    open.push(db);
    const dir = join(dataDir, 'lists', scope);
    const publish = (extra: Partial<PublishListOptions> = {}) => publishList(db, { dataDir, scope, privateKey, ...extra });
    const file = (name: string) => readFileSync(join(dir, `${name}.qgl`));
    const list = (name: string) => verifySignedList(file(name), { trustedKeys: [publicKey], scope });
    const entries = (name: string) => [...list(name).entries()].map((e) => [e.ref.toString('hex'), e.status] as const);
    const manifest = () => verifyManifest(readFileSync(join(dir, 'manifest.json')), { trustedKeys: [publicKey], scope, installedVersion: null }).manifest;
    const files = () => readdirSync(dir).filter((f) => f.endsWith('.qgl')).sort();
    return { dataDir, db, dir, publish, file, list, entries, manifest, files };
  }

  it('first publish: a signed snapshot of every member and card (a revoked card as revoked), sorted by ref, and a manifest without deltas', () => {
    const s = setup();
    const people = addMembers(s.db, scope, 40);
    setStatus(s.db, people[0]!, 'deny');
    setStatus(s.db, people[1]!, 'check');
    const card = issueCard(s.db, people[2]!);
    const revoked = issueCard(s.db, people[3]!);
    revokeCard(s.db, revoked);
    issueCard(s.db, people[0]!); // a denied member's card is denied too
    addMembers(s.db, 'other-site', 5);

    const nowMs = Date.parse('2026-03-01T08:00:00Z');
    const result = s.publish({ now: () => nowMs, expiresInDays: 3 });

    expect(result).toMatchObject({ scope, version: 1, count: 43, added: 43, changed: 0, removed: 0, deltaBytes: null, chain: [] });
    const snapshot = s.list('s1');
    expect(snapshot.header).toMatchObject<Partial<ListHeader>>({
      format: 2, kind: 'snapshot', scope, version: 1, count: 43, issuedAt: '2026-03-01T08:00:00.000Z', expiresAt: '2026-03-04T08:00:00.000Z',
    });
    const entries = s.entries('s1');
    expect(new Map(entries)).toEqual(expectedList(s.db, scope));
    expect(entries.map(([ref]) => ref)).toEqual(entries.map(([ref]) => ref).sort());
    expect(new Map(entries).get(card.toString('hex'))).toBe('allow');
    expect(new Map(entries).get(revoked.toString('hex'))).toBe('revoked');
    expect(result.snapshotBytes).toBe(s.file('s1').length);

    const manifest = s.manifest();
    expect(manifest).toMatchObject({ scope, version: 1, count: 43, deltas: [], snapshot: { name: 's1', version: 1, resultCount: 43 } });
    expect(s.files()).toEqual(['s1.qgl']);
    expect(s.db.prepare('SELECT version, entry_count, snapshot_file, delta_file, delta_count FROM list_versions').all()).toEqual([
      { version: 1, entry_count: 43, snapshot_file: 's1.qgl', delta_file: null, delta_count: null },
    ]);
    // The signed file is the record of what was published: the registry holds no copy of its entries.
    expect(s.db.prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'list_%' ORDER BY name").pluck().all()).toEqual(['list_versions']);
  });

  it('second publish: the delta holds exactly the additions, changes and removals, and v1 + delta = the v2 snapshot', () => {
    const s = setup();
    const people = addMembers(s.db, scope, 30);
    const oldCard = issueCard(s.db, people[5]!);
    const lostCard = issueCard(s.db, people[6]!);
    s.publish();
    const v1 = new Map<string, string>(s.entries('s1'));

    const newcomer = addMember(s.db, scope, 'check');
    setStatus(s.db, people[0]!, 'deny');
    setStatus(s.db, people[1]!, 'check');
    removeMember(s.db, people[2]!);
    revokeCard(s.db, oldCard); // a reissue: the old card goes, a new one comes
    const newCard = issueCard(s.db, people[5]!);
    revokeCard(s.db, lostCard);
    const result = s.publish();

    expect(result).toMatchObject({ version: 2, added: 2, changed: 4, removed: 1, count: 33 });
    const delta = s.list('d1-2');
    expect(delta.header).toMatchObject({ format: 2, kind: 'delta', version: 2, baseVersion: 1, count: 7 });
    expect(new Map(s.entries('d1-2'))).toEqual(
      new Map([
        [newcomer.idRef.toString('hex'), 'check'],
        [newCard.toString('hex'), 'allow'],
        [people[0]!.idRef.toString('hex'), 'deny'],
        [people[1]!.idRef.toString('hex'), 'check'],
        [people[2]!.idRef.toString('hex'), 'remove'],
        [oldCard.toString('hex'), 'revoked'],
        [lostCard.toString('hex'), 'revoked'],
      ]),
    );
    expect(result.deltaBytes).toBe(s.file('d1-2').length);

    // The terminal's view: v1 with the delta applied is exactly the v2 snapshot.
    const applied = new Map(v1);
    for (const [ref, status] of s.entries('d1-2')) {
      if (status === 'remove') applied.delete(ref);
      else applied.set(ref, status);
    }
    expect(new Map(s.entries('s2'))).toEqual(applied);
    expect(applied).toEqual(expectedList(s.db, scope));

    const manifest = s.manifest();
    expect(manifest).toMatchObject({ version: 2, count: result.count, snapshot: { name: 's2' } });
    expect(manifest.deltas).toMatchObject([{ name: 'd1-2', version: 2, baseVersion: 1, resultCount: result.count, bytes: result.deltaBytes }]);
    // The old snapshot is no longer offered, so it is gone.
    expect(s.files()).toEqual(['d1-2.qgl', 's2.qgl']);
    expect(s.db.prepare('SELECT version, delta_file, delta_count FROM list_versions WHERE version = 2').get()).toEqual({
      version: 2, delta_file: 'd1-2.qgl', delta_count: 7,
    });
  });

  it('publishes the whole snapshot with no delta when the last one cannot be read back, and the chain resumes after', () => {
    const s = setup();
    const people = addMembers(s.db, scope, 12);
    s.publish();
    // Deleted by hand: a delta guessed from nothing would desynchronise every terminal.
    rmSync(join(s.dir, 's1.qgl'));
    setStatus(s.db, people[0]!, 'deny');
    const second = s.publish();
    expect(second).toMatchObject({ version: 2, count: 12, deltaBytes: null });
    expect(second.previousSnapshotUnreadable).toContain('s1.qgl');
    expect(s.manifest()).toMatchObject({ version: 2, deltas: [] });
    expect(new Map(s.entries('s2'))).toEqual(expectedList(s.db, scope));

    // Signed by another key (the authority's key replaced): refused as a base the same way.
    const other = generateKeyPairSync('ed25519');
    setStatus(s.db, people[1]!, 'check');
    expect(s.publish({ privateKey: other.privateKey })).toMatchObject({ version: 3, deltaBytes: null, previousSnapshotUnreadable: expect.stringContaining('s2.qgl') });

    setStatus(s.db, people[2]!, 'deny');
    const fourth = s.publish({ privateKey: other.privateKey });
    expect(fourth).toMatchObject({ version: 4, added: 0, changed: 1, removed: 0 });
    expect(fourth.previousSnapshotUnreadable).toBeUndefined();
    const delta = verifySignedList(s.file('d3-4'), { trustedKeys: [other.publicKey], scope });
    expect([...delta.entries()].map((e) => [e.ref.toString('hex'), e.status])).toEqual([[people[2]!.idRef.toString('hex'), 'deny']]);
  });

  it('publishes an empty delta when nothing changed: the new version only moves the expiry', () => {
    const s = setup();
    addMembers(s.db, scope, 10);
    s.publish({ now: () => Date.parse('2026-03-01T00:00:00Z') });
    const result = s.publish({ now: () => Date.parse('2026-03-05T00:00:00Z') });
    expect(result).toMatchObject({ version: 2, count: 10, added: 0, changed: 0, removed: 0 });
    expect(s.list('d1-2').header).toMatchObject({ count: 0, expiresAt: new Date(Date.parse('2026-03-05T00:00:00Z') + 7 * dayMs).toISOString() });
    expect(s.manifest().expiresAt).toBe('2026-03-12T00:00:00.000Z');
  });

  it('keeps the delta chain shorter than the snapshot in bytes and at most 30 deltas long, and deletes what it drops', () => {
    const s = setup();
    const people = addMembers(s.db, scope, 2000);
    s.publish();
    for (let i = 0; i < maxChainDeltas + 3; i++) {
      setStatus(s.db, people[i]!, 'deny');
      s.publish();
    }
    const last = maxChainDeltas + 4;
    const manifest = s.manifest();
    expect(manifest.version).toBe(last);
    expect(manifest.deltas.map((d) => d.name)).toEqual(Array.from({ length: maxChainDeltas }, (_, i) => `d${last - maxChainDeltas + i}-${last - maxChainDeltas + i + 1}`));
    expect(s.files()).toEqual([...manifest.deltas.map((d) => `${d.name}.qgl`), `s${last}.qgl`].sort());

    // A change to 60% of the people: such a delta outweighs half the snapshot, so two cannot both be offered.
    for (const round of ['check', 'allow'] as const) {
      s.db.prepare('UPDATE members SET status = ? WHERE member_id IN (SELECT member_id FROM members ORDER BY member_id DESC LIMIT 1200)').run(round);
      s.publish();
    }
    const heavy = s.manifest();
    expect(heavy.deltas.map((d) => d.name)).toEqual([`d${last + 1}-${last + 2}`]);
    expect(s.files()).toEqual([`d${last + 1}-${last + 2}.qgl`, `s${last + 2}.qgl`]);
  });

  it('cuts files into chunks whose hashes the manifest lists', () => {
    const s = setup();
    addMembers(s.db, scope, 100);
    s.publish({ chunkBytes: 1024 });
    const manifest = s.manifest();
    const bytes = s.file('s1');
    expect(manifest.chunkBytes).toBe(1024);
    expect(manifest.snapshot.chunks).toHaveLength(Math.ceil(bytes.length / 1024));
    expect(Buffer.concat(manifest.snapshot.chunks.map((_, i) => chunkOf(bytes, i, 1024))).equals(bytes)).toBe(true);
  });

  it('refuses a scope nobody has and that was never published, writing nothing', () => {
    const s = setup();
    addMembers(s.db, scope, 3);
    expect(() => publishList(s.db, { dataDir: s.dataDir, scope: 'site-typo', privateKey })).toThrow(
      expect.objectContaining({ code: 'empty-scope', message: expect.stringContaining('"site-typo"') }),
    );
    expect(existsSync(join(s.dataDir, 'lists', 'site-typo'))).toBe(false);
    expect(s.db.prepare('SELECT count(*) AS n FROM list_versions').get()).toEqual({ n: 0 });
  });

  it('publishes an emptied scope: everyone removed is a delta of removals', () => {
    const s = setup();
    const people = addMembers(s.db, scope, 4);
    s.publish();
    for (const person of people) removeMember(s.db, person);
    expect(s.publish()).toMatchObject({ version: 2, count: 0, removed: 4 });
    expect(s.list('s2').header.count).toBe(0);
  });

  it('refuses a bad scope or expiry before touching anything', () => {
    const s = setup();
    expect(() => publishList(s.db, { dataDir: s.dataDir, scope: 'Bad/Scope', privateKey })).toThrow(expect.objectContaining({ code: 'invalid-option' }));
    expect(() => s.publish({ expiresInDays: 0 })).toThrow(expect.objectContaining({ code: 'invalid-option' }));
    expect(existsSync(join(s.dataDir, 'lists'))).toBe(false);
  });

  it('refuses to run while another publish of the same scope holds its lock, and records nothing', () => {
    const s = setup();
    addMembers(s.db, scope, 3);
    const release = lockScope(s.dataDir, scope);
    try {
      expect(() => s.publish()).toThrow(expect.objectContaining({ code: 'concurrent-publish' }));
    } finally {
      release();
    }
    expect(s.db.prepare('SELECT count(*) AS n FROM list_versions').get()).toEqual({ n: 0 });
    expect(s.publish().version).toBe(1);
  });
});

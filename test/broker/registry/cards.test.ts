import { describe, it, expect } from 'vitest';
import { memberKey } from '../../../broker/registry/members.js';
import { CardsError, issueCards, openLiveCards, type CardSelection } from '../../../broker/registry/cards.js';
import type { CentralDb } from '../../../broker/store/sqliteSchema.js';
import { generateCardId, parseCardId } from '../../../protocol/credentials/card.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { cardRows, people, registrySite, type RegistrySite } from './cardsFixture.js';

describe('registry cards: issue, reissue, live cards to print', () => {
  const tempDir = useTempDir('qrgate-cards-');

  function withDb<T>(site: RegistrySite, work: (db: CentralDb) => T): T {
    const db = site.open();
    try {
      return work(db);
    } finally {
      db.close();
    }
  }

  function liveCardIds(db: CentralDb, selection: CardSelection): string[] {
    return Array.from(openLiveCards(db, selection).cards, (card) => card.cardId);
  }

  it('issues one unguessable card per selected member, its ref the card-namespace ref of its id', () => {
    const site = registrySite(tempDir());
    site.insertMembers([...people(3, 'Tổ 1'), ...people(2, 'Tổ 2', 'hue', 100)]);
    const result = withDb(site, (db) => issueCards(db, { hasher: site.hasher, now: () => 1_700_000_000_000 }, { by: 'unit', unit: 'Tổ 1' }, { reissue: false }));
    expect(result).toEqual({ issued: 3, reissued: 0, skipped: 0 });
    const rows = withDb(site, cardRows);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(parseCardId(row.cardId)).toEqual({ ok: true, id: row.cardId });
      expect(row.cardRef.equals(site.hasher('card', row.cardId))).toBe(true);
      expect(row).toMatchObject({ issuedAtMs: 1_700_000_000_000, revokedAtMs: null });
    }
    expect(new Set(rows.map((r) => r.memberId)).size).toBe(3);
  });

  it('is idempotent: members holding a live card are skipped and keep it', () => {
    const site = registrySite(tempDir());
    site.insertMembers(people(4, 'Tổ 1'));
    const first = withDb(site, (db) => issueCards(db, { hasher: site.hasher }, { by: 'all' }, { reissue: false }));
    const before = withDb(site, cardRows);
    site.insertMembers(people(1, 'Tổ 1', 'hue', 50));
    const second = withDb(site, (db) => issueCards(db, { hasher: site.hasher }, { by: 'scope', scope: 'hue' }, { reissue: false }));
    expect(first).toEqual({ issued: 4, reissued: 0, skipped: 0 });
    expect(second).toEqual({ issued: 1, reissued: 0, skipped: 4 });
    expect(withDb(site, cardRows).slice(0, 4)).toEqual(before);
  });

  it('reissue revokes the live card and stores the new one in the same transaction', () => {
    const site = registrySite(tempDir());
    site.insertMembers(people(3, 'Tổ 1'));
    withDb(site, (db) => issueCards(db, { hasher: site.hasher, now: () => 1000 }, { by: 'all' }, { reissue: false }));
    const old = withDb(site, (db) => liveCardIds(db, { by: 'all' }));

    const result = withDb(site, (db) => issueCards(db, { hasher: site.hasher, now: () => 2000 }, { by: 'all' }, { reissue: true }));
    expect(result).toEqual({ issued: 0, reissued: 3, skipped: 0 });
    const rows = withDb(site, cardRows);
    expect(rows.filter((r) => old.includes(r.cardId)).map((r) => r.revokedAtMs)).toEqual([2000, 2000, 2000]);
    const live = rows.filter((r) => r.revokedAtMs === null);
    expect(live.map((r) => r.issuedAtMs)).toEqual([2000, 2000, 2000]);
    expect(new Set(live.map((r) => r.memberId)).size).toBe(3);
    // The old cards drop out of what is printed (and published).
    expect(withDb(site, (db) => liveCardIds(db, { by: 'all' })).some((id) => old.includes(id))).toBe(false);
  });

  it('a reissue that fails halfway changes nothing: no member loses a card without a new one', () => {
    const site = registrySite(tempDir());
    site.insertMembers(people(3, 'Tổ 1'));
    withDb(site, (db) => issueCards(db, { hasher: site.hasher }, { by: 'all' }, { reissue: false }));
    const before = withDb(site, cardRows);
    let calls = 0;
    const failing = () => {
      if (++calls === 3) throw new Error('entropy ran out');
      return generateCardId();
    };
    expect(() => withDb(site, (db) => issueCards(db, { hasher: site.hasher, generateId: failing }, { by: 'all' }, { reissue: true }))).toThrow('entropy ran out');
    expect(withDb(site, cardRows)).toEqual(before);
  });

  it('finds one member by the citizen ref of a typed ID number and returns their card', () => {
    const site = registrySite(tempDir());
    const [ha, other] = people(2, 'Tổ 1');
    site.insertMembers([ha!, other!]);
    const selection: CardSelection = { by: 'member', idRef: memberKey(site.hasher, ` ${ha!.idNumber.slice(0, 6)}-${ha!.idNumber.slice(6)} `).ref };
    const issued = withDb(site, (db) => issueCards(db, { hasher: site.hasher }, selection, { reissue: false }));
    expect(issued).toMatchObject({ issued: 1, reissued: 0, skipped: 0 });
    expect(withDb(site, (db) => liveCardIds(db, selection))).toEqual([issued.cardId]);
    const again = withDb(site, (db) => issueCards(db, { hasher: site.hasher }, selection, { reissue: false }));
    expect(again).toEqual({ issued: 0, reissued: 0, skipped: 1, cardId: issued.cardId });
    const reissued = withDb(site, (db) => issueCards(db, { hasher: site.hasher }, selection, { reissue: true }));
    expect(reissued).toMatchObject({ issued: 0, reissued: 1, skipped: 0 });
    expect(reissued.cardId).not.toBe(issued.cardId);
    expect(withDb(site, cardRows)).toHaveLength(2);
  });

  it('refuses an unknown member and a unit with nobody in it', () => {
    const site = registrySite(tempDir());
    site.insertMembers(people(1, 'Tổ 1'));
    const unknown = { by: 'member', idRef: memberKey(site.hasher, '079123456789').ref } as const;
    const issue = (selection: CardSelection) => () => withDb(site, (db) => issueCards(db, { hasher: site.hasher }, selection, { reissue: false }));
    expect(issue(unknown)).toThrow(expect.objectContaining({ code: 'unknown-member' }));
    expect(() => withDb(site, (db) => openLiveCards(db, unknown))).toThrow(expect.objectContaining({ code: 'unknown-member' }));
    expect(issue({ by: 'unit', unit: 'Tổ 9' })).toThrow(expect.objectContaining({ code: 'no-members', message: expect.stringContaining('unit "Tổ 9"') }));
  });

  it('lists live cards by unit then name, and refuses a selection with none', () => {
    const site = registrySite(tempDir());
    site.insertMembers([
      { idNumber: '046090000001', name: 'Trần Văn Đức', unit: 'B', scope: 'hue' },
      { idNumber: '046090000002', name: 'Lê Thị Hoa', unit: 'A', scope: 'hue' },
      { idNumber: '046090000003', name: 'Nguyễn Thị Ngọc Hà', unit: 'B', scope: 'hue' },
      { idNumber: '046090000004', name: 'Phạm Quốc Cường', unit: 'A', scope: 'danang' },
    ]);
    expect(() => withDb(site, (db) => openLiveCards(db, { by: 'all' }))).toThrow(expect.objectContaining({ code: 'no-cards' }));
    withDb(site, (db) => issueCards(db, { hasher: site.hasher }, { by: 'all' }, { reissue: false }));
    const listed = withDb(site, (db) => {
      const { count, cards } = openLiveCards(db, { by: 'scope', scope: 'hue' });
      return { count, cards: Array.from(cards, ({ name, unit, scope }) => ({ name, unit, scope })) };
    });
    expect(listed).toEqual({
      count: 3,
      cards: [
        { name: 'Lê Thị Hoa', unit: 'A', scope: 'hue' },
        { name: 'Nguyễn Thị Ngọc Hà', unit: 'B', scope: 'hue' },
        { name: 'Trần Văn Đức', unit: 'B', scope: 'hue' },
      ],
    });
  });

  it('issues 20,000 cards in one transaction, each id distinct', () => {
    const site = registrySite(tempDir());
    site.insertMembers(people(20_000, 'Khu công nghiệp Phú Bài'));
    const startedMs = performance.now();
    const result = withDb(site, (db) => issueCards(db, { hasher: site.hasher }, { by: 'all' }, { reissue: false }));
    const elapsedMs = performance.now() - startedMs;
    expect(result).toEqual({ issued: 20_000, reissued: 0, skipped: 0 });
    const ids = withDb(site, (db) => db.prepare('SELECT count(DISTINCT card_id) AS n FROM cards').get() as { n: number });
    expect(ids.n).toBe(20_000);
    // Reported, not asserted: a speed is a bench's to judge, and a loaded machine is no measure (~0.4 s here).
    console.info(`issued 20,000 cards in ${Math.round(elapsedMs)} ms`);
  });
});

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { createToken } from '../../../broker/access/tokens.js';
import type { ScanEvent } from '../../../protocol/event.js';
import { CP_A, CP_B } from '../store/scanEvents.js';
import { useApi, type Api } from './apiHarness.js';
import { ANH, DUC, eventMaker, seededApi } from './eventsFixture.js';

/**
 * The in/out log's filters by who scanned (issue 14 point 4): unit, residence, person and
 * member, on /api/events and /events.csv, each matched only on what the asker may see.
 * The fixture: Ánh (Công ty May Huế, "12 Lê Lợi, Huế", 0905123456) and Lộc (Tổ dân phố 5,
 * 0914000111, no address) scan at both units' checkpoints; a fifth of the scans are nobody's.
 */
const startApi = useApi();

async function seeded(): Promise<{ api: Api; events: ScanEvent[]; anh: string; duc: string }> {
  const { api, ref } = await seededApi(startApi);
  const events = eventMaker(ref)(120);
  await api.store.insertEvents(events, Date.now());
  return { api, events, anh: ref(ANH.id), duc: ref(DUC.id) };
}

/** Every event id `/api/events` gives for `filters`, newest first, through its paging. */
async function ids(api: Api, filters: string, token = api.adminToken): Promise<string[]> {
  const found: string[] = [];
  let cursor: string | null = null;
  do {
    const response = await api.get(`/api/events?limit=7&${filters}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(response.status, await response.clone().text()).toBe(200);
    const page = (await response.json()) as { events: { id: string }[]; nextCursor: string | null };
    found.push(...page.events.map((e) => e.id));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return found;
}

/** The fixture's events matching `keep`, newest first, as ids. */
function expected(events: readonly ScanEvent[], keep: (e: ScanEvent) => boolean): string[] {
  const picked = events.filter(keep).map((e) => e.id);
  expect(picked.length).toBeGreaterThan(5);
  return picked; // eventMaker makes them newest first
}

describe('the in/out log filtered by who scanned', () => {
  it('filters by unit, residence (diacritics optional), part of a name or phone, and member ref, the CSV holding the same rows', async () => {
    const { api, events, anh, duc } = await seeded();
    const of = (ref: string) => (e: ScanEvent) => e.credentialRef === ref;
    const cases: readonly (readonly [string, (e: ScanEvent) => boolean])[] = [
      [`unit=${encodeURIComponent(ANH.unit)}`, of(anh)],
      ['residence=le%20loi', of(anh)],
      [`residence=${encodeURIComponent('LÊ LỢI, huế')}`, of(anh)],
      ['person=duc%20loc', of(duc)],
      ['person=0914', of(duc)],
      [`member=${anh.toUpperCase()}`, of(anh)],
      [`person=nguyen&checkpoint=${CP_B}&direction=in`, (e) => of(anh)(e) && e.checkpointCode === CP_B && e.direction === 'in'],
    ];
    for (const [filters, keep] of cases) {
      const want = expected(events, keep);
      expect(await ids(api, filters), filters).toEqual(want);
      const csv = await api.get(`/events.csv?${filters}`);
      expect(csv.status).toBe(200);
      const rows = parse(Buffer.from(await csv.arrayBuffer()), { bom: true, columns: true }) as { event_id: string }[];
      expect(rows.map((row) => row.event_id), filters).toEqual(want);
    }
    // Nobody matches: an empty log, not every event.
    expect(await ids(api, 'residence=Ba%20%C4%90%C3%ACnh')).toEqual([]);
    expect(await ids(api, 'unit=Kh%C3%B4ng%20c%C3%B3')).toEqual([]);
  });

  it('refuses an ID number in the URL without echoing it, and an empty or malformed filter', async () => {
    const { api } = await seeded();
    for (const [filters, problem] of [
      [`person=${ANH.id}`, /person: looks like an ID number/],
      ['person=046%20190%20000201', /person: looks like an ID number/],
      ['residence=', /residence: is empty/],
      ['member=abc', /member: expected the 64 hex digits/],
    ] as const) {
      const response = await api.get(`/api/events?${filters}`);
      expect(response.status, filters).toBe(400);
      const body = await response.text();
      expect(body).toMatch(problem);
      expect(body).not.toContain('000201');
    }
  });

  it('matches a manager on their own unit’s people only, by unit on anyone’s; a guard on names and units only', async () => {
    const { api, events, anh, duc } = await seeded();
    // Lộc's unit runs checkpoint B: its manager sees B's log, Ánh there as "another unit".
    const manager = (await createToken(api.registry, { name: 't', createdBy: 'test', role: 'manager', unit: DUC.unit })).token;
    const atB = (ref: string) => (e: ScanEvent) => e.checkpointCode === CP_B && e.credentialRef === ref;
    expect(await ids(api, 'person=anh', manager)).toEqual([]);
    expect(await ids(api, 'residence=hue', manager)).toEqual([]);
    expect(await ids(api, `member=${anh}`, manager)).toEqual([]);
    expect(await ids(api, `unit=${encodeURIComponent(ANH.unit)}`, manager)).toEqual(expected(events, atB(anh)));
    expect(await ids(api, 'person=0914', manager)).toEqual(expected(events, atB(duc)));

    const guard = (await createToken(api.registry, { name: 't', createdBy: 'test', role: 'guard', checkpoints: [CP_A] })).token;
    const atA = (ref: string) => (e: ScanEvent) => e.checkpointCode === CP_A && e.credentialRef === ref;
    expect(await ids(api, `person=${encodeURIComponent('Lộc')}`, guard)).toEqual(expected(events, atA(duc)));
    expect(await ids(api, 'person=0914', guard)).toEqual([]);
    for (const filters of ['residence=hue', `member=${duc}`]) {
      const response = await api.get(`/api/events?${filters}`, { token: guard });
      expect(response.status, filters).toBe(403);
    }
  });
});

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { createToken } from '../../../broker/access/tokens.js';
import { addUser } from '../../../broker/access/users.js';
import { eventsCsvColumns, spreadsheetText, vietnamTime } from '../../../broker/api/routes/eventsCsv.js';
import { CP_A, CP_B, scanEvent } from '../store/scanEvents.js';
import { useApi, type Api } from './apiHarness.js';
import { ANH, DUC, eventMaker, MINUTE, NOW, seededApi } from './eventsFixture.js';

type Row = Record<(typeof eventsCsvColumns)[number], string>;

const startApi = useApi();

async function csvOf(api: Api, path: string, token = api.adminToken): Promise<{ response: Response; bytes: Buffer; rows: Row[] }> {
  const response = await api.get(path, { token });
  const bytes = Buffer.from(await response.arrayBuffer());
  const rows = response.status === 200 ? (parse(bytes, { bom: true, columns: true }) as Row[]) : [];
  return { response, bytes, rows };
}

/** Every event id `/api/events` gives for `filters`, through its own paging. */
async function idsFromLog(api: Api, filters: string, token = api.adminToken): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const response = await api.get(`/api/events?limit=1000${filters ? `&${filters}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { events: { id: string }[]; nextCursor: string | null };
    ids.push(...page.events.map((e) => e.id));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return ids;
}

describe('vietnamTime', () => {
  it('adds 7 hours to every form of event time, across midnight, a month, a year and a leap day', () => {
    const starts = [Date.UTC(2024, 11, 30), Date.UTC(2024, 1, 27), Date.UTC(2025, 3, 29)];
    for (const start of starts) {
      for (let ms = start; ms < start + 4 * 86_400_000; ms += 997_123) {
        const local = new Date(ms + 7 * 3_600_000).toISOString();
        const want = `${local.slice(0, 10)} ${local.slice(11, 19)}`;
        const iso = new Date(ms).toISOString();
        for (const form of [iso, iso.replace(/\.\d+Z$/, 'Z'), iso.replace(/Z$/, '456Z')]) expect(vietnamTime(form), form).toBe(want);
      }
    }
  });
});

describe('GET /events.csv', () => {
  it('downloads the log as Excel reads it: BOM, header, quoting, Vietnamese names intact, local time, no ID numbers; with a session cookie too', async () => {
    const { api, ref } = await seededApi(startApi);
    await api.store.insertEvents(
      [
        { ...scanEvent({ terminalId: 'gate-a-1', checkpointCode: CP_A, seq: 1, tsMs: NOW - 10 * MINUTE }), credentialType: 'cccd', credentialRef: ref(ANH.id) },
        { ...scanEvent({ terminalId: 'gate-a-1', checkpointCode: CP_A, seq: 2, tsMs: NOW - 5 * MINUTE, decision: 'refused' }), credentialType: 'unknown', credentialRef: null },
      ],
      NOW,
    );
    await addUser(api.registry, { username: 'ops', role: 'admin', password: 'correct horse battery staple' }, NOW);
    const login = await api.get('/api/session', {
      token: null,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ops', password: 'correct horse battery staple' }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

    for (const credentials of [{ token: api.adminToken }, { token: null, headers: { cookie } }]) {
      const response = await api.get('/events.csv', credentials);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="qrgate-events-20250601.csv"');
      const bytes = Buffer.from(await response.arrayBuffer());
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const text = bytes.toString('utf8');
      expect(text.split('\r\n')[0]).toBe(`\uFEFF${eventsCsvColumns.join(',')}`);
      // RFC 4180: the name with a comma and quotes is one quoted cell, quotes doubled.
      expect(text).toContain(',"Cổng ""Bắc"", khu A",');
      const rows = parse(bytes, { bom: true, columns: true }) as Row[];
      expect(rows.map((r) => [r.time_utc, r.time_vietnam, r.checkpoint, r.checkpoint_name, r.decision, r.member_name, r.member_unit, r.member_id, r.member_status])).toEqual([
        [new Date(NOW - 5 * MINUTE).toISOString(), '2025-06-01 06:25:00', CP_A, 'Cổng "Bắc", khu A', 'refused', '', '', '', ''],
        [new Date(NOW - 10 * MINUTE).toISOString(), '2025-06-01 06:20:00', CP_A, 'Cổng "Bắc", khu A', 'granted', ANH.name, ANH.unit, '*********201', 'allow'],
      ]);
      expect(text).not.toContain(ANH.id);
    }
  });

  it('holds the same events as /api/events for every filter, across many store pages', async () => {
    const { api, ref } = await seededApi(startApi);
    await api.store.insertEvents(eventMaker(ref)(2_600), NOW);
    const from = new Date(NOW - 2_000 * MINUTE).toISOString();
    const to = new Date(NOW - 300 * MINUTE).toISOString();
    const filters = [
      '',
      `checkpoint=${CP_A}`,
      `checkpoint=${CP_B}&direction=out`,
      'terminal=gate-a-2&decision=refused',
      `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      `from=${encodeURIComponent(from)}&decision=granted&direction=in`,
      'decision=duplicate',
    ];
    for (const filter of filters) {
      const { response, rows } = await csvOf(api, `/events.csv${filter ? `?${filter}` : ''}`);
      expect(response.status, filter).toBe(200);
      const expected = await idsFromLog(api, filter);
      expect(expected.length, filter).toBeGreaterThan(0);
      expect(rows.map((r) => r.event_id), filter).toEqual(expected);
    }
    // Paging is the download's own business; a misspelt or bad filter is refused before any byte.
    for (const [path, reason] of [
      ['/events.csv?limit=10', 'limit: unknown parameter'],
      ['/events.csv?cursor=abc', 'cursor: unknown parameter'],
      ['/events.csv?decison=granted', 'decison: unknown parameter'],
      [`/events.csv?from=${encodeURIComponent(to)}&to=${encodeURIComponent(from)}`, 'to: must be later than from'],
    ] as const) {
      const response = await api.get(path);
      expect(response.status, path).toBe(400);
      expect(((await response.json()) as { reason: string }).reason).toContain(reason);
    }
  });

  it("gives a manager its own unit's checkpoints only, another unit's people only as such; a guard its gate; an inspector nothing", async () => {
    const { api, ref } = await seededApi(startApi);
    await api.store.insertEvents(eventMaker(ref)(60), NOW);
    const managerOther = (await createToken(api.registry, { name: 't', createdBy: 'test', role: 'manager', unit: DUC.unit })).token;
    const { rows, bytes } = await csvOf(api, '/events.csv', managerOther);
    expect(rows.length).toBe(20);
    expect(new Set(rows.map((r) => r.checkpoint))).toEqual(new Set([CP_B]));
    expect(rows.map((r) => r.event_id)).toEqual(await idsFromLog(api, `checkpoint=${CP_B}`));
    // Ánh passing Lộc's unit's gate: her unit and masked ID, never her name, phone or address.
    expect(rows.some((r) => r.member_unit === ANH.unit && r.member_name === '' && r.member_id === '*********201')).toBe(true);
    expect(rows.some((r) => r.member_name === DUC.name)).toBe(true);
    const text = bytes.toString('utf8');
    for (const secret of [ANH.name, '0905123456', 'Lê Lợi', ANH.id, DUC.id]) expect(text).not.toContain(secret);
    expect((await csvOf(api, `/events.csv?checkpoint=${CP_A}`, managerOther)).response.status).toBe(403);

    const guard = (await createToken(api.registry, { name: 't', createdBy: 'test', role: 'guard', checkpoints: [CP_A] })).token;
    const asGuard = await csvOf(api, '/events.csv?direction=in', guard);
    expect(asGuard.rows.map((r) => r.event_id)).toEqual(await idsFromLog(api, `checkpoint=${CP_A}&direction=in`));
    const inspector = (await createToken(api.registry, { name: 't', createdBy: 'test', role: 'inspector' })).token;
    expect((await csvOf(api, '/events.csv', inspector)).response.status).toBe(403);
  });

  it('keeps a formula out of every text cell', () => {
    expect(['=HYPERLINK("x")', '+1', '-2', '@SUM(A1)', 'Ánh'].map(spreadsheetText)).toEqual(['"\'=HYPERLINK(""x"")"', "'+1", "'-2", "'@SUM(A1)", 'Ánh']);
  });

  it(
    "exports 200,000 rows from a real SQLite store without the central's heap growing with them",
    async () => {
      const { api, ref } = await seededApi(startApi);
      const total = 200_000;
      const events = eventMaker(ref);
      for (let stored = 0; stored < total; stored += 20_000) await api.store.insertEvents(events(20_000), NOW);
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;

      // JS heap and the buffers outside it: a download held whole would show in one or the other.
      const held = (): number => {
        gc();
        const { heapUsed, arrayBuffers } = process.memoryUsage();
        return heapUsed + arrayBuffers;
      };
      const before = held();
      const response = await api.get('/events.csv');
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const heapAt = new Map<number, number>();
      const marks = [50_000, 190_000];
      let rows = -1; // the header
      let lastByte = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const byte of value) if (byte === 0x0a) rows++;
        lastByte = value.at(-1) ?? lastByte;
        const mark = marks.find((m) => rows >= m && !heapAt.has(m));
        if (mark !== undefined) {
          // The server is held back by this reader (backpressure): what it holds now is all it holds.
          heapAt.set(mark, held());
        }
      }
      expect(rows).toBe(total);
      expect(lastByte).toBe(0x0a);
      // 140,000 rows held would be well over 35 MB (as CSV text alone); the stream holds about a
      // page. Measured: within ±8 MB of the start at both marks.
      const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
      const growth = { at50k: mb(heapAt.get(50_000)! - before), from50kTo190k: mb(heapAt.get(190_000)! - heapAt.get(50_000)!) };
      expect(growth.at50k).toBeLessThan(24);
      expect(growth.from50kTo190k).toBeLessThan(24);
    },
    300_000,
  );
});

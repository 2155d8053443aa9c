import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ScanEvent } from '../../../protocol/event.js';
import { checkpointCode, CP_A, CP_B, scanEvent, telemetry } from '../store/scanEvents.js';
import { useApi } from './apiHarness.js';

const NOW = Date.UTC(2025, 4, 31, 12);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('central HTTP API', () => {
  const startApi = useApi();

  async function startWithFleet() {
    const api = await startApi({ nowMs: NOW });
    await api.store.createCheckpoint({ code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto' });
    await api.store.createCheckpoint({ code: CP_B, name: 'Cổng B', direction: 'in', confirm: 'manual' });
    await api.store.addTerminal({ terminalId: 'gate-a-1', checkpointCode: CP_A, secretHash: 'h', listScopes: ['default'] });
    await api.store.addTerminal({ terminalId: 'gate-b-1', checkpointCode: CP_B, secretHash: 'h', listScopes: ['default'] });
    return api;
  }

  /** 40 events, one a minute back from NOW, alternating terminals, directions and decisions. */
  async function startWithEvents(): Promise<Awaited<ReturnType<typeof startWithFleet>> & { events: ScanEvent[] }> {
    const api = await startWithFleet();
    const events: ScanEvent[] = [];
    for (let i = 0; i < 40; i++) {
      const onA = i % 2 === 0;
      events.push(
        scanEvent({
          terminalId: onA ? 'gate-a-1' : 'gate-b-1',
          checkpointCode: onA ? CP_A : CP_B,
          seq: Math.floor(i / 2) + 1,
          tsMs: NOW - (40 - i) * MINUTE,
          direction: i % 4 < 2 ? 'in' : 'out',
          decision: i % 3 === 0 ? 'refused' : 'granted',
        }),
      );
    }
    await api.store.insertEvents(events, NOW);
    return { ...api, events: events.reverse() };
  }

  async function json(response: Response): Promise<unknown> {
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    return response.json();
  }

  describe('GET /api/checkpoints/{code}/stats', () => {
    it('answers the counts per window and per decision', async () => {
      const api = await startWithFleet();
      await api.store.insertEvents(
        [
          scanEvent({ terminalId: 'gate-a-1', checkpointCode: CP_A, seq: 1, tsMs: NOW - 2 * DAY, decision: 'refused' }),
          scanEvent({ terminalId: 'gate-a-1', checkpointCode: CP_A, seq: 2, tsMs: NOW - 2 * HOUR }),
          scanEvent({ terminalId: 'gate-a-1', checkpointCode: CP_A, seq: 3, tsMs: NOW - MINUTE }),
        ],
        NOW,
      );
      const response = await api.get(`/api/checkpoints/${CP_A}/stats`);
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({
        code: CP_A,
        name: 'Gate A',
        lastHour: 1,
        lastDay: 2,
        lastWeek: 3,
        lastMonth: 3,
        byDecision: {
          granted: { lastHour: 1, lastDay: 2, lastWeek: 2, lastMonth: 2 },
          refused: { lastHour: 0, lastDay: 0, lastWeek: 1, lastMonth: 1 },
          duplicate: { lastHour: 0, lastDay: 0, lastWeek: 0, lastMonth: 0 },
        },
      });
      expect(await json(await api.get(`/api/checkpoints/${CP_B}/stats`))).toMatchObject({ name: 'Cổng B', lastMonth: 0 });
    });

    it('answers 404 for a well-formed code nobody registered', async () => {
      const api = await startWithFleet();
      const unknown = checkpointCode('1234567890123');
      const response = await api.get(`/api/checkpoints/${unknown}/stats`);
      expect(response.status).toBe(404);
      expect(await json(response)).toEqual({ error: 'not-found', reason: `checkpoint ${unknown} is not registered` });
    });

    it.each([
      ['123', /^code: checkpoint code "123" has 3 digits, expected 14$/],
      [CP_A.slice(0, -1) + String((Number(CP_A.at(-1)) + 1) % 10), /^code: .*fails its check digit/],
      ['1000000000000x', /^code: .*must be digits only/],
      ['%D9%A1%D9%A2', /^code: .*must be digits only/],
      ['', /^code: checkpoint code is empty/],
    ])('answers 400 naming the problem for code %j', async (code, reason) => {
      const api = await startWithFleet();
      const response = await api.raw(`/api/checkpoints/${code}/stats`);
      expect(response.status).toBe(400);
      const body = JSON.parse(response.body) as { error: string; reason: string };
      expect(body.error).toBe('bad-request');
      expect(body.reason).toMatch(reason);
    });
  });

  describe('GET /api/events', () => {
    it('pages through the log newest first by following nextCursor', async () => {
      const api = await startWithEvents();
      const seen: string[] = [];
      let next: string | null = '/api/events?limit=15';
      const pageSizes: number[] = [];
      while (next !== null) {
        const response = await api.get(next);
        expect(response.status).toBe(200);
        const page = (await json(response)) as { events: (ScanEvent & { receivedAt: string })[]; nextCursor: string | null };
        pageSizes.push(page.events.length);
        seen.push(...page.events.map((e) => e.id));
        expect(page.events.every((e) => e.receivedAt === new Date(NOW).toISOString())).toBe(true);
        next = page.nextCursor === null ? null : `/api/events?limit=15&cursor=${encodeURIComponent(page.nextCursor)}`;
      }
      expect(pageSizes).toEqual([15, 15, 10]);
      expect(seen).toEqual(api.events.map((e) => e.id));
    });

    it('applies every filter', async () => {
      const api = await startWithEvents();
      const from = new Date(NOW - 30 * MINUTE);
      // The offset form, '+' sent as %2B: 11:50+01:00 is 10:50Z.
      const to = `${new Date(NOW - 10 * MINUTE + HOUR).toISOString().slice(0, 19)}%2B01:00`;
      const query = `checkpoint=${CP_A}&terminal=gate-a-1&direction=out&decision=granted&from=${from.toISOString()}&to=${to}&limit=1000`;
      const page = (await json(await api.get(`/api/events?${query}`))) as { events: ScanEvent[]; nextCursor: null };
      const expected = api.events.filter(
        (e) =>
          e.checkpointCode === CP_A &&
          e.direction === 'out' &&
          e.decision === 'granted' &&
          Date.parse(e.ts) >= from.getTime() &&
          Date.parse(e.ts) < NOW - 10 * MINUTE,
      );
      expect(expected.length).toBeGreaterThan(1);
      expect(page.events.map((e) => e.id)).toEqual(expected.map((e) => e.id));
      expect(page.nextCursor).toBeNull();
    });

    it('takes a plain date as UTC midnight and defaults to 100 events', async () => {
      const api = await startWithEvents();
      const page = (await json(await api.get('/api/events?from=2025-05-31'))) as { events: ScanEvent[] };
      expect(page.events).toHaveLength(40);
      const none = (await json(await api.get('/api/events?from=2025-06-01'))) as { events: ScanEvent[] };
      expect(none.events).toEqual([]);
    });

    it.each([
      ['foo=1', 'foo: unknown parameter'],
      ['limit=0', 'limit: expected a whole number from 1 to 1000'],
      ['limit=1001', 'limit: expected a whole number from 1 to 1000'],
      ['limit=abc', 'limit: expected a whole number from 1 to 1000'],
      ['limit=2.5', 'limit: expected a whole number from 1 to 1000'],
      ['limit=', 'limit: expected a whole number from 1 to 1000'],
      ['limit=5&limit=6', 'limit: given more than once'],
      ['from=yesterday', /^from: expected an ISO 8601 date or date-time with a zone/],
      ['from=2025-02-30', /^from: expected an ISO 8601/],
      ['from=2025-05-01T07:30:00', /^from: expected an ISO 8601/],
      ['from=2025-05-01T07:30:00+07:00', /^from: .*\(send '\+' as %2B\)$/],
      ['from=2025-05-02&to=2025-05-01', 'to: must be later than from'],
      // Found by fast-check: past year 9999 the ISO text sorts before the instant it names.
      ['from=9999-12-31T23:00:00-02:00&to=9999-12-31', 'to: must be later than from'],
      ['direction=sideways', 'direction: expected one of in, out'],
      ['decision=maybe', 'decision: expected one of granted, refused, duplicate'],
      ['checkpoint=123', 'checkpoint: checkpoint code "123" has 3 digits, expected 14'],
      [`terminal=${'t'.repeat(65)}`, 'terminal: expected a terminal id of 1 to 64 characters'],
      ['terminal=', 'terminal: expected a terminal id of 1 to 64 characters'],
      ['cursor=', 'cursor: empty: leave it out for the first page'],
      ['cursor=bm90LWEtY3Vyc29y', /^cursor: malformed cursor/],
      ['cursor=%F0%9F%92%A9', /^cursor: malformed cursor/],
      ['%zz=1', '"%zz": unknown parameter'],
      ['foo=1&limit=0', 'limit: expected a whole number from 1 to 1000; foo: unknown parameter'],
    ])('answers 400 for %s', async (query, reason) => {
      const api = await startWithEvents();
      const response = await api.raw(`/api/events?${query}`);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = JSON.parse(response.body) as { error: string; reason: string };
      expect(body.error).toBe('bad-request');
      if (typeof reason === 'string') expect(body.reason).toBe(reason);
      else expect(body.reason).toMatch(reason);
    });
  });

  describe('GET /api/checkpoints', () => {
    it('lists every checkpoint with its unit, position and branch flag, retired ones included', async () => {
      const api = await startWithFleet();
      await api.store.updateCheckpoint(CP_B, { unit: 'Công ty May Huế', latitude: 16.4637, longitude: 107.5909, branch: true });
      await api.store.retireCheckpoint(CP_A);
      const response = await api.get('/api/checkpoints');
      expect(response.status).toBe(200);
      const created = expect.any(String);
      expect(await json(response)).toEqual({
        checkpoints: expect.arrayContaining([
          { code: CP_A, name: 'Gate A', direction: 'both', confirm: 'auto', unit: '', latitude: null, longitude: null, branch: false, createdAt: created, retiredAt: expect.any(String) },
          { code: CP_B, name: 'Cổng B', direction: 'in', confirm: 'manual', unit: 'Công ty May Huế', latitude: 16.4637, longitude: 107.5909, branch: true, createdAt: created, retiredAt: null },
        ]),
      });
      expect((await api.get('/api/checkpoints?all=1')).status).toBe(400);
    });
  });

  describe('GET /api/terminals', () => {
    it('lists the fleet with online state, telemetry and gaps', async () => {
      const api = await startWithFleet();
      const bootId = randomUUID();
      await api.store.recordConnection('gate-a-1', true, NOW - 5000);
      await api.store.recordTelemetry('gate-a-1', telemetry(bootId, NOW - 1000, 3), NOW - 1000);
      await api.store.insertEvents([scanEvent({ terminalId: 'gate-a-1', checkpointCode: CP_A, seq: 3, tsMs: NOW - 2000 })], NOW);
      const response = await api.get('/api/terminals');
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({
        terminals: [
          {
            terminalId: 'gate-a-1',
            checkpointCode: CP_A,
            online: true,
            lastSeenAt: new Date(NOW).toISOString(),
            bootId,
            telemetry: telemetry(bootId, NOW - 1000, 3),
            lastSeq: 3,
            gaps: [{ terminalId: 'gate-a-1', fromSeq: 1, toSeq: 2 }],
            removed: false,
            checkpointRetired: false,
          },
          { terminalId: 'gate-b-1', checkpointCode: CP_B, online: false, lastSeenAt: null, bootId: null, telemetry: null, lastSeq: null, gaps: [], removed: false, checkpointRetired: false },
        ],
      });
    });
  });

  describe('GET /healthz', () => {
    it('is ok while the store answers and 503 once it does not', async () => {
      const api = await startApi();
      const ok = await api.get('/healthz');
      expect(ok.status).toBe(200);
      expect(await json(ok)).toEqual({ ok: true });
      expect((await api.raw('/healthz?probe=lb')).status).toBe(200);
      const head = await api.raw('/healthz', 'HEAD');
      expect(head.status).toBe(200);
      expect(head.body).toBe('');

      await api.store.close();
      const down = await api.get('/healthz');
      expect(down.status).toBe(503);
      expect(await json(down)).toMatchObject({ ok: false, error: 'unavailable' });
      expect(api.log.messages('api.health-failed')).toHaveLength(1);
    });
  });

  describe('GET /metrics', () => {
    it('renders the registry, store gauges read at scrape time', async () => {
      const api = await startWithFleet();
      const ingested = api.metrics.counter('qrgate_events_ingested_total', 'scan events stored for the first time');
      ingested.inc(41);
      ingested.inc();
      await api.store.recordConnection('gate-a-1', true, NOW);
      await api.store.insertEvents([scanEvent({ terminalId: 'gate-b-1', checkpointCode: CP_B, seq: 4, tsMs: NOW })], NOW);

      const response = await api.get('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await response.text();
      expect(text).toContain('# HELP qrgate_terminals_online terminals connected now (removed terminals not counted)\n# TYPE qrgate_terminals_online gauge\nqrgate_terminals_online 1\n');
      expect(text).toContain('\nqrgate_sequence_gaps 1\n');
      expect(text).toContain('\nqrgate_sequence_missing_events 3\n');
      expect(text).toContain('# TYPE qrgate_events_ingested_total counter\nqrgate_events_ingested_total 42\n');
    });

    it('still answers with the counters when the store fails, and logs it', async () => {
      const api = await startApi();
      api.metrics.counter('qrgate_messages_malformed_total', 'payloads that failed validation').inc(2);
      await api.store.close();
      const response = await api.get('/metrics');
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('qrgate_messages_malformed_total 2\n');
      expect(api.log.messages('api.metric-collect-failed').map((line) => line.metric).sort()).toEqual([
        'qrgate_sequence_gaps',
        'qrgate_sequence_missing_events',
        'qrgate_terminals_online',
      ]);
    });
  });

  describe('anything else', () => {
    it('refuses query parameters on endpoints that take none', async () => {
      const api = await startWithFleet();
      for (const path of [`/api/checkpoints/${CP_A}/stats?x=1`, '/api/terminals?verbose=true']) {
        const response = await api.get(path);
        expect(response.status).toBe(400);
        expect(await json(response)).toEqual({ error: 'bad-request', reason: expect.stringMatching(/^(x|verbose): unknown parameter$/) });
      }
      // Changes too, before anything is changed: a misspelt option must not pass unnoticed.
      const issue = await api.get('/api/cards/issue?dry-run=1', { method: 'POST', body: JSON.stringify({ all: true }), headers: { 'content-type': 'application/json' } });
      expect(issue.status).toBe(400);
      expect(await json(issue)).toEqual({ error: 'bad-request', reason: 'dry-run: unknown parameter' });
      // /healthz alone takes any: load balancers add their own.
      expect((await api.get('/healthz?probe=lb')).status).toBe(200);
    });

    it('answers 404 for an unknown path and 405 with Allow for a wrong method', async () => {
      const api = await startApi();
      const missing = await api.get('/api/nothing');
      expect(missing.status).toBe(404);
      expect(await json(missing)).toEqual({ error: 'not-found', reason: 'no such endpoint: /api/nothing' });
      expect((await api.get('/api/terminals/')).status).toBe(404);

      const post = await fetch(`${api.base}/api/terminals`, { method: 'POST', body: '{}' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      expect(await json(post)).toMatchObject({ error: 'method-not-allowed' });
      expect((await fetch(`${api.base}/api/nothing`, { method: 'DELETE' })).status).toBe(404);
    });

    it('turns a failing store into a 500 and a log line, and keeps serving', async () => {
      const api = await startApi();
      await api.store.close();
      const response = await api.get('/api/terminals');
      expect(response.status).toBe(500);
      expect(await json(response)).toEqual({ error: 'internal', reason: 'internal error; see the central log' });
      expect(api.log.messages('api.failed')).toHaveLength(1);
      expect((await api.get('/api/nothing')).status).toBe(404);
    });

    it.each(
      (
        [
          ['/api/checkpoints/%E0%A4%A/stats', 400],
          ['/%', 400],
          ['/api/%zz', 400],
          ['/api/checkpoints/..%2F..%2Fetc%2Fpasswd/stats', 400],
          ['/api/checkpoints/%00/stats', 400],
          ['/api/events/..', 404],
          ['/api/../../../etc/passwd', 404],
          ['/api/./terminals', 200],
          ['//api/terminals', 404],
          ['/api/terminals;x=1', 404],
          ['/healthz#fragment', 200],
          ['/api/events?limit=%00', 400],
          ['/api/events?&&&=&', 400],
          ['*', 400],
          ['http://example.invalid/api/terminals', 200],
          [`/api/events?limit=1&x=${'a'.repeat(5000)}`, 414],
        ] as const
      ).map(([target, status]) => ({ target, status, label: target.length > 60 ? `${target.slice(0, 30)}… (${target.length} characters)` : target })),
    )('survives the request target $label', async ({ target, status }) => {
      const api = await startApi();
      const response = await api.raw(target);
      expect(response.status).toBe(status);
      expect(() => JSON.parse(response.body) as unknown).not.toThrow();
      expect((await api.get('/healthz')).status).toBe(200);
    });

    it('survives a request target longer than Node accepts', async () => {
      const api = await startApi();
      // Node answers 431 and closes; the close can overtake the answer (RST with unread input).
      const outcome = await api.raw(`/api/events?x=${'a'.repeat(100_000)}`).then(
        (response) => response.status,
        (err: NodeJS.ErrnoException) => err.code,
      );
      expect([431, 'ECONNRESET', 'EPIPE']).toContain(outcome);
      expect((await api.get('/healthz')).status).toBe(200);
    });
  });
});

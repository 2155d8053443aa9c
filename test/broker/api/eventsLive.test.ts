import { request, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createToken, type NewToken } from '../../../broker/access/tokens.js';
import { addUser } from '../../../broker/access/users.js';
import type { LiveOptions } from '../../../broker/api/routes/eventsLive.js';
import { LiveEvents, type StoredEvent } from '../../../broker/ingestion/liveEvents.js';
import type { ScanEvent } from '../../../protocol/event.js';
import { openSse, type SseClient } from '../../helpers/sseClient.js';
import { waitFor } from '../../helpers/waitFor.js';
import { CP_A, CP_B } from '../store/scanEvents.js';
import { useApi, type Api } from './apiHarness.js';
import { ANH, DUC, eventMaker, seededApi } from './eventsFixture.js';

interface LiveEvent extends ScanEvent {
  readonly receivedAt: string;
  readonly member: Record<string, unknown> | null;
}

const startApi = useApi();
const clients: SseClient[] = [];
afterEach(async () => {
  // Before the server closes: a feed never ends by itself.
  for (const client of clients.splice(0)) await client.close();
});

/**
 * The API on a real SQLite store, its feed published to as ingestion does after a commit:
 * the events are stored first, then announced.
 */
async function liveApi(live: LiveOptions = {}) {
  const liveEvents = new LiveEvents();
  const { api, ref } = await seededApi(startApi, { liveEvents, live });
  const makeEvents = eventMaker(ref);
  const commit = async (events: readonly ScanEvent[]): Promise<StoredEvent[]> => {
    const receivedAtMs = Date.now();
    await api.store.insertEvents(events, receivedAtMs);
    const stored = events.map((event) => ({ ...event, receivedAt: new Date(receivedAtMs).toISOString() }));
    liveEvents.publish(stored);
    return stored;
  };
  const token = async (scope: Omit<NewToken, 'name' | 'createdBy'>) => (await createToken(api.registry, { name: 'live', createdBy: 'test', ...scope })).token;
  const watch = async (path: string, bearer = api.adminToken): Promise<SseClient> => {
    const client = await openSse(`${api.base}${path}`, { authorization: `Bearer ${bearer}` });
    clients.push(client);
    return client;
  };
  return { api, liveEvents, makeEvents, commit, token, watch };
}

const scans = (client: SseClient): LiveEvent[] => client.messages.filter((m) => m.event === 'scan').map((m) => JSON.parse(m.data) as LiveEvent);

describe('GET /api/events/live', () => {
  it('sends a feed filtered by who scanned only their scans: by residence, by person, by unit for another unit’s manager', async () => {
    const { api, makeEvents, commit, token, watch } = await liveApi();
    const ofAnh = await watch('/api/events/live?residence=le%20loi');
    const ofDuc = await watch(`/api/events/live?person=${encodeURIComponent('đức lộc')}`);
    const anhAtB = await watch(`/api/events/live?unit=${encodeURIComponent(ANH.unit)}`, await token({ role: 'manager', unit: DUC.unit }));
    const stored = [...(await commit(makeEvents(30))), ...(await commit(makeEvents(30)))];
    const anh = (await api.get(`/api/events?limit=1&person=${encodeURIComponent(ANH.name)}`).then((r) => r.json())) as { events: LiveEvent[] };
    const anhRef = anh.events[0]!.credentialRef;
    const expectFeed = async (client: SseClient, keep: (e: StoredEvent) => boolean, what: string) => {
      const wanted = stored.filter(keep).map((e) => e.id);
      expect(wanted.length, what).toBeGreaterThan(3);
      await waitFor(() => scans(client).length >= wanted.length, 10_000, what);
      expect(scans(client).map((e) => e.id), what).toEqual(wanted);
    };
    await expectFeed(ofAnh, (e) => e.credentialRef === anhRef, 'residence: Ánh’s scans');
    await expectFeed(ofDuc, (e) => e.credentialRef !== null && e.credentialRef !== anhRef, 'person: Lộc’s scans');
    await expectFeed(anhAtB, (e) => e.credentialRef === anhRef && e.checkpointCode === CP_B, 'Ánh’s unit, at B');
  });

  it("sends each stored event to the feeds whose filters and scope take it, with the person as /api/events shows them", async () => {
    const { api, makeEvents, commit, token, watch } = await liveApi();
    const all = await watch('/api/events/live');
    const refusedAtA = await watch(`/api/events/live?checkpoint=${CP_A}&decision=refused`);
    const managerOfB = await watch('/api/events/live', await token({ role: 'manager', unit: DUC.unit }));
    const guardOfA = await watch('/api/events/live', await token({ role: 'guard', checkpoints: [CP_A] }));
    expect(all.status).toBe(200);
    expect(all.contentType).toBe('text/event-stream; charset=utf-8');

    const first = await commit(makeEvents(30));
    const second = await commit(makeEvents(30));
    const stored = [...first, ...second];
    await waitFor(() => scans(all).length === stored.length, 10_000, 'all 60 events on the unfiltered feed');
    // In commit order, each once, as the log pages them (newest first there, oldest first here).
    expect(scans(all).map((e) => e.id)).toEqual(stored.map((e) => e.id));
    expect(all.messages.filter((m) => m.event === 'scan').map((m) => m.id)).toEqual(stored.map((e) => e.id));
    const logged = (await (await api.get('/api/events?limit=60')).json()) as { events: LiveEvent[] };
    // The generated events run back in time, so commit order is the log's newest-first order here.
    expect(scans(all)).toEqual(logged.events);

    const expectFeed = async (client: SseClient, keep: (e: StoredEvent) => boolean, what: string) => {
      const wanted = stored.filter(keep).map((e) => e.id);
      expect(wanted.length, what).toBeGreaterThan(0);
      await waitFor(() => scans(client).length >= wanted.length, 10_000, what);
      expect(scans(client).map((e) => e.id), what).toEqual(wanted);
    };
    await expectFeed(refusedAtA, (e) => e.checkpointCode === CP_A && e.decision === 'refused', 'refusals at A');
    await expectFeed(managerOfB, (e) => e.checkpointCode === CP_B, "B's manager: B only");
    await expectFeed(guardOfA, (e) => e.checkpointCode === CP_A, "A's guard: A only");

    // Ánh at B: to B's manager, her unit and masked ID and nothing more; Lộc in full.
    const seenByB = scans(managerOfB);
    expect(seenByB.some((e) => JSON.stringify(e.member) === JSON.stringify({ otherUnit: true, unit: ANH.unit, idMasked: '*********201' }))).toBe(true);
    expect(seenByB.some((e) => (e.member as { name?: string } | null)?.name === DUC.name)).toBe(true);
    const textB = managerOfB.messages.map((m) => m.data).join('\n');
    for (const secret of [ANH.name, '0905123456', 'Lê Lợi', ANH.id, DUC.id]) expect(textB).not.toContain(secret);
    // A guard: name, unit, status; no phone.
    expect(scans(guardOfA).every((e) => e.member === null || !('phone' in e.member))).toBe(true);
  });

  it('serves a browser logged in with a session cookie, as EventSource sends it', async () => {
    const { api, makeEvents, commit } = await liveApi();
    await addUser(api.registry, { username: 'guard.a', role: 'guard', checkpoints: [CP_A], password: 'correct horse battery staple' });
    const login = await api.get('/api/session', {
      token: null,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'guard.a', password: 'correct horse battery staple' }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const feed = await openSse(`${api.base}/api/events/live`, { cookie });
    clients.push(feed);
    expect(feed.status).toBe(200);
    const stored = await commit(makeEvents(6));
    const atA = stored.filter((e) => e.checkpointCode === CP_A).map((e) => e.id);
    await waitFor(() => scans(feed).length === atA.length, 10_000, "the guard's gate's events");
    expect(scans(feed).map((e) => e.id)).toEqual(atA);
  });

  it('refuses what /api/events refuses, before the feed opens', async () => {
    const { token, watch } = await liveApi();
    const managerOfB = await token({ role: 'manager', unit: DUC.unit });
    expect((await watch(`/api/events/live?checkpoint=${CP_A}`, managerOfB)).status).toBe(403);
    expect((await watch('/api/events/live', await token({ role: 'inspector' }))).status).toBe(403);
    expect((await watch('/api/events/live?limit=5')).status).toBe(400);
    expect((await watch('/api/events/live?direction=sideways')).status).toBe(400);
  });

  it('lets go of a watcher that disconnects', async () => {
    const { liveEvents, makeEvents, commit, watch } = await liveApi();
    const client = await watch('/api/events/live');
    await waitFor(() => client.comments.includes('live'), 10_000, 'the opening comment');
    expect(liveEvents.listenerCount).toBe(1);
    await client.close();
    await waitFor(() => liveEvents.listenerCount === 0, 10_000, 'the subscription ended');
    // Publishing with nobody watching is harmless.
    await commit(makeEvents(5));
  });

  it('answers HEAD with the headers alone, holding no feed open', async () => {
    const { api, liveEvents } = await liveApi();
    for (const path of ['/api/events/live', '/events.csv']) {
      const response = await api.get(path, { method: 'HEAD' });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toMatch(path.endsWith('.csv') ? /^text\/csv/ : /^text\/event-stream/);
    }
    expect(liveEvents.listenerCount).toBe(0);
  });

  it('cuts off a watcher that stops reading instead of buffering for it, and keeps serving the others', async () => {
    const { api, liveEvents, makeEvents, commit, watch } = await liveApi();
    const reader = await watch('/api/events/live');
    // A client that reads the headers and then nothing more: its socket's buffers fill, then the server's.
    let stalledClosed = false;
    const stalled = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: api.port, path: '/api/events/live', headers: { authorization: `Bearer ${api.adminToken}` }, agent: false }, (res) => {
        res.pause();
        res.socket.pause();
        res.socket.once('close', () => {
          stalledClosed = true;
        });
        res.on('error', () => {});
        resolve(res);
      });
      req.on('error', reject);
      req.end();
    });
    await waitFor(() => liveEvents.listenerCount === 1 && reader.comments.includes('live'), 10_000, 'both feeds open');

    let sent = 0;
    await waitFor(
      async () => {
        sent += (await commit(makeEvents(500))).length;
        // The reading feed keeps up; only the stalled one falls behind.
        await waitFor(() => scans(reader).length === sent, 30_000, 'the reading feed caught up');
        return api.log.lines.some((line) => line.msg === 'api.events-live-dropped');
      },
      120_000,
      'the stalled watcher dropped',
    );
    // The reader got everything.
    const dropped = api.log.lines.find((line) => line.msg === 'api.events-live-dropped')!;
    expect(dropped.bufferedBytes).toBeGreaterThan(1024 * 1024);
    await waitFor(() => scans(reader).length === sent, 60_000, 'every event on the reading feed');
    // Reading again, the client finds its connection ended.
    stalled.socket.resume();
    stalled.resume();
    await waitFor(() => stalledClosed, 30_000, "the stalled watcher's connection closed");
  });

  // 15 s in the central; a second here, so the test waits for two heartbeats, not half a minute.
  it("sends a heartbeat on its interval, and ends a manager's feed of a checkpoint moved to another unit at the next one", async () => {
    const { api, token, watch } = await liveApi({ heartbeatMs: 1_000 });
    const managerOfB = await token({ role: 'manager', unit: DUC.unit });
    const ofB = await watch(`/api/events/live?checkpoint=${CP_B}`, managerOfB);
    expect(ofB.status).toBe(200);
    await waitFor(() => ofB.comments.includes('ping'), 10_000, 'a heartbeat');
    expect(ofB.ended()).toBe(false);
    await api.store.updateCheckpoint(CP_B, { unit: ANH.unit });
    await waitFor(() => ofB.ended(), 10_000, 'the feed ended');
  });
});

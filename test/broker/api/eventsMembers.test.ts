import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemberView } from '../../../broker/access/memberView.js';
import { createToken, type NewToken } from '../../../broker/access/tokens.js';
import { createApiServer } from '../../../broker/api/server.js';
import { centralDbFileName, loadCentralConfig } from '../../../broker/config.js';
import { MetricsRegistry } from '../../../broker/metrics.js';
import { openRegistryDb, registryRefHasher, withRegistryDb } from '../../../broker/registry/registryDb.js';
import type { CentralStore, MemberSummary } from '../../../broker/store/centralStore.js';
import { SqliteRegistryDb } from '../../../broker/store/sql/sqliteRegistryDb.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { run as membersImport } from '../../../cli/commands/membersImport.js';
import type { ScanEvent } from '../../../protocol/event.js';
import { refToHex } from '../../../protocol/credentialRef.js';
import { writeLocalCentral } from '../../../provisioning/localCentral.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { useTestStore } from '../../helpers/sqliteStore.js';
import { cliContext } from '../../helpers/cliContext.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { CP_A, scanEvent } from '../store/scanEvents.js';

const NOW = Date.UTC(2025, 4, 31, 12);
const AN = '046085000101';
const BINH = '046185000102';
const tempDir = useTempDir('qrgate-api-members-');

type LoggedEvent = ScanEvent & { receivedAt: string; member: MemberView | null };

describe('GET /api/events with the registry', () => {
  const testStore = useTestStore();
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A real API server over `store`, in a central folder of its own unless one is given; `get` sends a token of `role`. */
  async function serve(store: CentralStore, centralConfig = writeLocalCentral(tempDir())) {
    const config = loadCentralConfig(centralConfig);
    const db = openRegistryDb(config);
    const registry = new SqliteRegistryDb(db);
    const app = await createApiServer({ config, store, registry, metrics: new MetricsRegistry({ logger: silentLogger(), processMetrics: false }), logger: silentLogger(), now: () => NOW });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(async () => {
      await app.close();
      db.close();
    });
    const { port } = app.server.address() as AddressInfo;
    const tokens = new Map<string, string>();
    const tokenFor = async (scope: NewToken) => {
      const key = JSON.stringify(scope);
      if (!tokens.has(key)) tokens.set(key, (await createToken(registry, scope)).token);
      return tokens.get(key)!;
    };
    return async (path: string, scope: Omit<NewToken, 'name' | 'createdBy'> = { role: 'admin' }): Promise<{ events: LoggedEvent[]; nextCursor: string | null }> => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${await tokenFor({ name: 'test', createdBy: 'test', ...scope })}` } });
      expect(response.status).toBe(200);
      return (await response.json()) as { events: LoggedEvent[]; nextCursor: string | null };
    };
  }

  /** A central folder whose registry holds An (Công ty May Huế) and the second person given as a members-file row, imported by the CLI. */
  async function centralWithPeople(secondRow: string): Promise<string> {
    const dir = tempDir();
    const centralConfig = writeLocalCentral(dir);
    const csv = join(dir, 'people.csv');
    writeFileSync(
      csv,
      `name,phone,address,unit,scope,idNumber,status\nNguyễn Văn An,0905123456,"12 Lê Lợi, Phường Phú Hội, Huế",Công ty May Huế,site-a,${AN},allow\n${secondRow}\n`,
    );
    expect(await membersImport(cliContext(['--central-config', centralConfig, csv]).ctx)).toBe(0);
    return centralConfig;
  }

  const event = (seq: number, credential: Pick<ScanEvent, 'credentialType' | 'credentialRef'>): ScanEvent => ({
    ...scanEvent({ terminalId: 'gate-a-1', checkpointCode: CP_A, seq, tsMs: NOW - seq * 60_000 }),
    ...credential,
  });

  it('shows who passed: name, phone and address by ID number or by card, revoked cards too, never the ID number', async () => {
    const centralConfig = await centralWithPeople(`Trần Thị Bình,0914000111,,Tổ 5,site-a,${BINH},check`);
    const config = loadCentralConfig(centralConfig);
    const hasher = registryRefHasher(config);
    const cardRef = hasher('card', 'AAAABBBBCCCCDDDDEEEEFFFFGG');
    await withRegistryDb(config, (db) => {
      db.prepare("INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms, revoked_at_ms) SELECT ?, 'old-card', member_id, 0, 1 FROM members WHERE id_ref = ?").run(
        cardRef,
        hasher('citizen', BINH),
      );
    });

    const store = new SqliteCentralStore({ file: join(config.dataDir, centralDbFileName), logger: silentLogger() });
    await store.migrate();
    cleanups.push(() => store.close());
    await store.insertEvents(
      [
        event(1, { credentialType: 'cccd', credentialRef: refToHex(hasher('citizen', AN)) }),
        event(2, { credentialType: 'card', credentialRef: refToHex(cardRef) }),
        event(3, { credentialType: 'pccovid', credentialRef: refToHex(hasher('citizen', '046085000999')) }),
        event(4, { credentialType: 'unknown', credentialRef: null }),
        event(5, { credentialType: 'typed', credentialRef: refToHex(hasher('citizen', AN)) }),
      ],
      NOW,
    );
    const get = await serve(store, centralConfig);

    const page = await get('/api/events');
    const an = { name: 'Nguyễn Văn An', phone: '0905123456', address: '12 Lê Lợi, Phường Phú Hội, Huế', unit: 'Công ty May Huế', scope: 'site-a', idMasked: '*********101', status: 'allow' };
    const binh = { name: 'Trần Thị Bình', phone: '0914000111', address: '', unit: 'Tổ 5', scope: 'site-a', idMasked: '*********102', status: 'check' };
    expect(page.events.map((e) => [e.seq, e.member])).toEqual([
      [1, an],
      [2, binh],
      [3, null],
      [4, null],
      [5, an],
    ]);
    // Paging keeps the join.
    const first = await get('/api/events?limit=2');
    const second = await get(`/api/events?limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect([...first.events, ...second.events].map((e) => (e.member && 'name' in e.member ? e.member.name : null))).toEqual(['Nguyễn Văn An', 'Trần Thị Bình', null, null]);

    const body = JSON.stringify(page);
    for (const id of [AN, BINH]) expect(body).not.toContain(id);
  });

  it("shows a manager its own unit's people in full and another unit's only as such, by masked ID; a guard sees no phone or address", async () => {
    const centralConfig = await centralWithPeople(`Trần Thị Bình,0914000111,"5 Hùng Vương, Huế",Tổ 5,site-a,${BINH},allow`);
    const config = loadCentralConfig(centralConfig);
    const hasher = registryRefHasher(config);
    const store = new SqliteCentralStore({ file: join(config.dataDir, centralDbFileName), logger: silentLogger() });
    await store.migrate();
    cleanups.push(() => store.close());
    await store.createCheckpoint({ code: CP_A, name: 'Cổng May', direction: 'both', confirm: 'auto', unit: 'Công ty May Huế' });
    await store.insertEvents(
      [event(1, { credentialType: 'cccd', credentialRef: refToHex(hasher('citizen', AN)) }), event(2, { credentialType: 'cccd', credentialRef: refToHex(hasher('citizen', BINH)) })],
      NOW,
    );
    const get = await serve(store, centralConfig);

    const asManager = await get('/api/events', { role: 'manager', unit: 'Công ty May Huế' });
    expect(asManager.events.map((e) => [e.seq, e.member])).toEqual([
      [1, { name: 'Nguyễn Văn An', phone: '0905123456', address: '12 Lê Lợi, Phường Phú Hội, Huế', unit: 'Công ty May Huế', scope: 'site-a', idMasked: '*********101', status: 'allow' }],
      [2, { otherUnit: true, unit: 'Tổ 5', idMasked: '*********102' }],
    ]);
    const managerBody = JSON.stringify(asManager);
    for (const secret of ['Trần Thị Bình', '0914000111', 'Hùng Vương', BINH]) expect(managerBody).not.toContain(secret);

    const asGuard = await get('/api/events', { role: 'guard', checkpoints: [CP_A] });
    expect(asGuard.events.map((e) => e.member)).toEqual([
      { name: 'Nguyễn Văn An', unit: 'Công ty May Huế', idMasked: '*********101', status: 'allow' },
      { name: 'Trần Thị Bình', unit: 'Tổ 5', idMasked: '*********102', status: 'allow' },
    ]);
    expect(JSON.stringify(asGuard)).not.toMatch(/0905123456|0914000111|Lê Lợi|Hùng Vương/);

    // Another unit's manager sees none of this gate's log.
    expect((await get('/api/events', { role: 'manager', unit: 'Tổ 5' })).events).toEqual([]);
  });

  it('asks the registry once per page, and not at all when no event carries a ref', async () => {
    const store = await testStore();
    const calls: (readonly string[])[] = [];
    const lookup = store.membersByRefs.bind(store);
    store.membersByRefs = (refs) => {
      calls.push(refs);
      return lookup(refs);
    };
    const someone: MemberSummary = { name: 'Lê Châu', phone: '0905000000', address: '', unit: 'Tổ 1', scope: 'default', idMasked: '*********103', status: 'deny' };
    store.register({ idRef: 'cd'.repeat(32), cards: [], summary: someone });
    const get = await serve(store);

    expect((await get('/api/events')).events).toEqual([]);
    expect(calls).toEqual([]);

    await store.insertEvents([event(1, { credentialType: 'card', credentialRef: 'cd'.repeat(32) }), event(2, { credentialType: 'cccd', credentialRef: 'ef'.repeat(32) })], NOW);
    const page = await get('/api/events');
    expect(page.events.map((e) => e.member)).toEqual([someone, null]);
    expect(calls).toEqual([['cd'.repeat(32), 'ef'.repeat(32)]]);
  });
});

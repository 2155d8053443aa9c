import { describe, expect, it } from 'vitest';
import { reencodePhoto } from '../../../broker/registry/memberPhotoImage.js';
import { SqliteRegistryDb } from '../../../broker/store/sql/sqliteRegistryDb.js';
import { setMemberPhoto } from '../../../broker/registry/memberPhotos.js';
import { registryRefHasher } from '../../../broker/registry/registryDb.js';
import { refToHex } from '../../../protocol/credentialRef.js';
import { commandSchema } from '../../../protocol/messages.js';
import { commandTopic } from '../../../protocol/topics.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';
import { photoWithGps } from '../../helpers/photos.js';
import { pendingHeld } from '../mqtt/fixtures.js';
import { useApi } from './apiHarness.js';
import { site } from './authz/row.js';
import { useSite, type SiteWorld, type TokenHolder } from './authzSite.js';

/**
 * The guard screen's API with a scan actually pending (test/broker/api/authz/guardRoutes.ts
 * has the routes' matrix with none): who sees it and how much of the person, who may answer
 * it, what goes to the terminal, and that an answer counts once.
 */

const startApi = useApi();
const newWorld = useSite(startApi);

interface Listed {
  readonly id: string;
  readonly member: Record<string, unknown> | null;
}

/** A scan of the own unit's member held at the own checkpoint's terminal, as its `…/pending` message arrives. */
function holdOwnScan(world: SiteWorld, timeoutMs = 15_000): string {
  const atMs = world.clock.t;
  const id = uuidv7(atMs);
  const ref = refToHex(registryRefHasher(world.api.config)('citizen', site.members.own.idNumber));
  const accepted = world.api.pending.accept(
    { terminalId: site.terminals.own, checkpointCode: site.checkpoints.own },
    pendingHeld({ id, credentialRef: ref, at: new Date(atMs).toISOString(), expiresAt: new Date(atMs + timeoutMs).toISOString() }),
  );
  expect(accepted).toBe(true);
  return id;
}

const post = (world: SiteWorld, path: string, who: TokenHolder, body: unknown = {}) =>
  world.api.get(path, { method: 'POST', token: world.tokens[who], headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function listed(world: SiteWorld, who: TokenHolder, query = ''): Promise<{ status: number; pending: Listed[] }> {
  const response = await world.api.get(`/api/pending${query}`, { token: world.tokens[who] });
  if (response.status !== 200) return { status: response.status, pending: [] };
  return { status: 200, pending: ((await response.json()) as { pending: Listed[] }).pending };
}

describe('GET /api/pending and the answers to a pending scan', () => {
  it('shows the scan to its checkpoint guard with name, unit and status only, in full to the manager of the unit, and to no one else', async () => {
    const world = await newWorld();
    const id = holdOwnScan(world);
    const guard = await listed(world, 'guard');
    expect(guard.pending.map((p) => p.id)).toEqual([id]);
    expect(guard.pending[0]!.member).toEqual({ name: site.members.own.name, unit: site.units.own, idMasked: expect.stringMatching(/\*+101$/), status: 'allow' });
    expect((await listed(world, 'managerOwn')).pending[0]!.member).toMatchObject({ name: site.members.own.name, phone: site.members.own.phone });
    expect((await listed(world, 'admin')).pending.map((p) => p.id)).toEqual([id]);
    // Out of scope: an empty list unfiltered, 403 when asked for that checkpoint by name.
    expect(await listed(world, 'guardOther')).toEqual({ status: 200, pending: [] });
    expect(await listed(world, 'managerOther')).toEqual({ status: 200, pending: [] });
    expect((await listed(world, 'guardOther', `?checkpoint=${site.checkpoints.own}`)).status).toBe(403);
    expect((await listed(world, 'inspector')).status).toBe(403);
  });

  it('sends the terminal a confirm naming the scan and the guard, once: a second answer is 409, and out of scope is 403', async () => {
    const world = await newWorld();
    const id = holdOwnScan(world);
    expect((await post(world, `/api/pending/${id}/confirm`, 'guardOther')).status).toBe(403);
    expect((await post(world, `/api/pending/${id}/confirm`, 'managerOther')).status).toBe(403);
    expect(world.api.commands).toEqual([]);

    const answered = await post(world, `/api/pending/${id}/confirm`, 'guard');
    expect(answered.status).toBe(202);
    expect(world.api.commands).toHaveLength(1);
    const [sent] = world.api.commands;
    expect(sent!.topic).toBe(commandTopic(site.checkpoints.own, site.terminals.own, 'confirm'));
    expect(commandSchema.parse(sent!.command)).toMatchObject({ pendingId: id, lane: 'in', by: expect.stringMatching(/^token:/) });
    // Never retained, and short-lived: a stuck command cannot open the gate much later.
    expect(Date.parse(String(sent!.command.expiresAt)) - world.clock.t).toBeLessThanOrEqual(60_000);
    expect((await listed(world, 'guard')).pending).toEqual([]);

    for (const action of ['confirm', 'reject']) {
      const again = await post(world, `/api/pending/${id}/${action}`, 'managerOwn');
      expect(again.status).toBe(409);
      expect(((await again.json()) as { reason: string }).reason).toMatch(/no longer pending: confirmed by token:/);
    }
    expect(world.api.commands).toHaveLength(1);
    // The terminal's own word wins: its timeout came first, so the answer changed nothing.
    world.api.pending.accept(
      { terminalId: site.terminals.own, checkpointCode: site.checkpoints.own },
      JSON.stringify({ v: 1, state: 'resolved', id, lane: 'in', at: new Date(world.clock.t).toISOString(), decision: 'refused', reason: 'timeout' }),
    );
    expect(((await (await post(world, `/api/pending/${id}/confirm`, 'guard')).json()) as { reason: string }).reason).toMatch(/timed out/);
    // The answer is in the audit log.
    const audit = (await (await world.api.get('/api/audit?action=pending.confirm', { token: world.tokens.admin })).json()) as { entries: { target: string }[] };
    expect(audit.entries.map((e) => e.target)).toEqual([id]);
  });

  it('answers 409 for a scan that timed out at the terminal or that the gate decided, and 404 for one never seen', async () => {
    const world = await newWorld();
    const timedOut = holdOwnScan(world, 1_000);
    world.advance(10_000);
    const late = await post(world, `/api/pending/${timedOut}/confirm`, 'guard');
    expect(late.status).toBe(409);
    expect(((await late.json()) as { reason: string }).reason).toMatch(/timed out/);

    const atGate = holdOwnScan(world);
    world.api.pending.accept(
      { terminalId: site.terminals.own, checkpointCode: site.checkpoints.own },
      JSON.stringify({ v: 1, state: 'resolved', id: atGate, lane: 'in', at: new Date(world.clock.t).toISOString(), decision: 'refused', reason: 'rejected' }),
    );
    expect((await post(world, `/api/pending/${atGate}/reject`, 'guard')).status).toBe(409);
    // A repeat of the pending message (a reconnect) does not bring it back.
    world.api.pending.accept({ terminalId: site.terminals.own, checkpointCode: site.checkpoints.own }, pendingHeld({ id: atGate }));
    expect((await listed(world, 'guard')).pending).toEqual([]);

    expect((await post(world, `/api/pending/${uuidv7(world.clock.t)}/confirm`, 'guard')).status).toBe(404);
    expect((await post(world, '/api/pending/not-a-uuid/confirm', 'guard')).status).toBe(400);
    expect(world.api.commands).toEqual([]);
  });

  it('counts and drops a malformed pending message, and one claiming a scan another terminal holds', async () => {
    const world = await newWorld();
    const own = { terminalId: site.terminals.own, checkpointCode: site.checkpoints.own };
    for (const bad of ['not json', '{}', pendingHeld({ credentialRef: '046085000101' as never }), JSON.stringify({ ...JSON.parse(pendingHeld()), extra: 1 })]) {
      expect(world.api.pending.accept(own, bad)).toBe(false);
    }
    const id = holdOwnScan(world);
    expect(world.api.pending.accept({ terminalId: site.terminals.other, checkpointCode: site.checkpoints.other }, pendingHeld({ id }))).toBe(false);
    expect(world.api.log.messages('ingest.malformed')).toHaveLength(5);
    // The log names the terminal and the problem, never the payload (it could carry anything).
    expect(JSON.stringify(world.api.log.lines)).not.toContain('046085000101');
    expect((await listed(world, 'admin')).pending.map((p) => p.id)).toEqual([id]);
  });

  it('sends a remote open with the typed reason and who asked, and refuses one without a reason', async () => {
    const world = await newWorld();
    expect((await post(world, `/api/checkpoints/${site.checkpoints.own}/open`, 'guard', { reason: '   ' })).status).toBe(400);
    expect((await post(world, `/api/checkpoints/${site.checkpoints.own}/open`, 'guard', { reason: 'xe cứu thương', terminal: 'gate-x' })).status).toBe(404);
    const opened = await post(world, `/api/checkpoints/${site.checkpoints.own}/open`, 'guard', { reason: '  xe   cứu thương ', lane: 'in' });
    expect(opened.status).toBe(202);
    expect(world.api.commands.map((c) => [c.topic, commandSchema.parse(c.command)])).toEqual([
      [commandTopic(site.checkpoints.own, site.terminals.own, 'open'), expect.objectContaining({ reason: 'xe cứu thương', lane: 'in', by: expect.stringMatching(/^token:/) })],
    ]);
  });

  it("serves the pending scan's person's photo to whoever may see the person's name there, and to no one else", async () => {
    const world = await newWorld();
    const id = holdOwnScan(world);
    const photo = (who: TokenHolder) => world.api.get(`/api/pending/${id}/photo`, { token: world.tokens[who] });
    // GET /api/pending says whether there is a face to ask for (the guard screen adds an <img> only then).
    const flag = async (who: TokenHolder) => ((await listed(world, who)).pending.find((p) => p.id === id) as { photo?: boolean } | undefined)?.photo;
    expect((await photo('guard')).status).toBe(404); // no photo yet
    expect(await flag('guard')).toBe(false);
    const idRef = registryRefHasher(world.api.config)('citizen', site.members.own.idNumber);
    expect(await setMemberPhoto(new SqliteRegistryDb(world.api.db), idRef, reencodePhoto(photoWithGps(320, 240)), world.clock.t)).toBe(true);
    const seen = await photo('guard');
    expect(seen.status).toBe(200);
    expect(seen.headers.get('content-type')).toBe('image/jpeg');
    expect(seen.headers.get('cache-control')).toContain('no-store');
    expect(Buffer.from(await seen.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect((await photo('managerOwn')).status).toBe(200);
    expect([await flag('guard'), await flag('managerOwn'), await flag('admin')]).toEqual([true, true, true]);
    expect((await photo('guardOther')).status).toBe(403);
    expect((await photo('managerOther')).status).toBe(403);
    expect((await photo('inspector')).status).toBe(403);
    // Answered, the scan is no longer pending and its photo no longer served.
    expect((await post(world, `/api/pending/${id}/confirm`, 'guard')).status).toBe(202);
    expect((await photo('guard')).status).toBe(404);
  });
});

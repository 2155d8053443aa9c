import { describe, expect, it } from 'vitest';
import { searchAudit } from '../../../broker/access/audit.js';
import { registryRefHasher } from '../../../broker/registry/registryDb.js';
import { refToHex } from '../../../protocol/credentialRef.js';
import { scanEvent } from '../store/scanEvents.js';
import { useApi } from './apiHarness.js';
import { site } from './authz/row.js';
import { MINUTE, useSite, type SiteWorld, type TokenHolder } from './authzSite.js';

/**
 * /api/inside with people actually inside (test/broker/api/authz/insideRoutes.ts has the
 * routes' matrix): who sees whom, what of them, a roll call's marks, a take-out and expiry.
 */

const startApi = useApi();
const newWorld = useSite(startApi);

interface View {
  readonly total: number;
  readonly groups: readonly { unit: string; missing: number; rollCall: { id: number } | null; people: readonly { ref: string; member: Record<string, unknown> | null; safe: unknown }[] }[];
}

/** Each member goes in at their own unit's gate a minute ago: their newest passage. */
async function seated(): Promise<SiteWorld & { ownRef: string; otherRef: string }> {
  const world = await newWorld();
  const hasher = registryRefHasher(world.api.config);
  const ownRef = refToHex(hasher('citizen', site.members.own.idNumber));
  const otherRef = refToHex(hasher('citizen', site.members.other.idNumber));
  await world.api.store.insertEvents(
    [
      { ...scanEvent({ terminalId: site.terminals.own, checkpointCode: site.checkpoints.own, seq: 10, tsMs: world.clock.t - MINUTE }), credentialRef: ownRef },
      { ...scanEvent({ terminalId: site.terminals.other, checkpointCode: site.checkpoints.other, seq: 10, tsMs: world.clock.t - MINUTE }), credentialRef: otherRef },
    ],
    world.clock.t,
  );
  return { ...world, ownRef, otherRef };
}

const view = async (world: SiteWorld, who: TokenHolder): Promise<View> => {
  const response = await world.api.get('/api/inside', { token: world.tokens[who] });
  expect(response.status).toBe(200);
  return (await response.json()) as View;
};
const post = (world: SiteWorld, path: string, who: TokenHolder, body: unknown) =>
  world.api.get(path, { method: 'POST', token: world.tokens[who], headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('/api/inside', () => {
  it('shows everyone to an admin, a manager only its own unit, a guard those who went in at its gate as the guard screen does', async () => {
    const world = await seated();
    const all = await view(world, 'admin');
    expect(all.groups.map((g) => [g.unit, g.people.map((p) => p.ref)])).toEqual([
      [site.units.own, [world.ownRef]],
      [site.units.other, [world.otherRef]],
    ]);
    const own = await view(world, 'managerOwn');
    expect(own.groups.flatMap((g) => g.people.map((p) => p.ref))).toEqual([world.ownRef]);
    expect(own.groups[0]!.people[0]!.member).toMatchObject({ name: site.members.own.name, phone: site.members.own.phone });
    const otherBody = await (await world.api.get('/api/inside', { token: world.tokens.managerOther })).text();
    expect([site.members.own.name, site.members.own.phone, world.ownRef].filter((v) => otherBody.includes(v))).toEqual([]);
    const guard = await view(world, 'guard');
    expect(guard.groups.flatMap((g) => g.people.map((p) => p.member))).toEqual([{ name: site.members.own.name, unit: site.units.own, idMasked: `*********${site.members.own.idNumber.slice(-3)}`, status: 'allow' }]);
    // An entry no exit closed expires after inside.expiryHours (24).
    world.advance(24 * 60 * MINUTE);
    expect((await view(world, 'admin')).total).toBe(0);
  });

  it('keeps a roll call per unit: a guard marks a person safe once, another unit cannot, a new roll call starts fresh', async () => {
    const world = await seated();
    const started = await post(world, '/api/inside/roll-calls', 'guard', { unit: site.units.own });
    expect(started.status).toBe(201);
    const { rollCall } = (await started.json()) as { rollCall: { id: number } };
    expect((await view(world, 'admin')).groups[0]).toMatchObject({ rollCall: { id: rollCall.id }, missing: 1 });
    expect((await post(world, `/api/inside/roll-calls/${rollCall.id}/safe`, 'guardOther', { ref: world.ownRef })).status).toBe(404);
    const marked = await post(world, `/api/inside/roll-calls/${rollCall.id}/safe`, 'guard', { ref: world.ownRef });
    expect(await marked.json()).toMatchObject({ marked: true, safe: { by: expect.stringMatching(/^token:/) } });
    expect(await (await post(world, `/api/inside/roll-calls/${rollCall.id}/safe`, 'admin', { ref: world.ownRef })).json()).toMatchObject({ marked: false });
    expect((await view(world, 'admin')).groups[0]!.missing).toBe(0);
    // `replaces` names the roll call the caller means to end: a stale one (or "none" while one is under way) is refused.
    for (const replaces of [rollCall.id + 1, null]) {
      const refused = await post(world, '/api/inside/roll-calls', 'managerOwn', { unit: site.units.own, replaces });
      expect(refused.status).toBe(409);
    }
    expect((await view(world, 'admin')).groups[0]).toMatchObject({ rollCall: { id: rollCall.id }, missing: 0 });
    const again = (await (await post(world, '/api/inside/roll-calls', 'managerOwn', { unit: site.units.own, replaces: rollCall.id })).json()) as { rollCall: { id: number } };
    expect((await view(world, 'admin')).groups[0]).toMatchObject({ rollCall: { id: again.rollCall.id }, missing: 1 });
    expect((await post(world, `/api/inside/roll-calls/${rollCall.id}/safe`, 'guard', { ref: world.ownRef })).status).toBe(409);
    expect((await searchAudit(world.api.registry, { limit: 10, action: 'rollcall.mark' })).entries).toHaveLength(1);
  });

  it('lets the manager of a person take them out with a reason, audited; not another unit, not a guard', async () => {
    const world = await seated();
    const body = { ref: world.ownRef, reason: 'Ra cổng sau, quên quẹt thẻ' };
    expect((await post(world, '/api/inside/take-out', 'managerOther', body)).status).toBe(404);
    expect((await post(world, '/api/inside/take-out', 'guard', body)).status).toBe(403);
    expect((await post(world, '/api/inside/take-out', 'managerOwn', { ref: world.ownRef, reason: '  ' })).status).toBe(400);
    expect((await post(world, '/api/inside/take-out', 'managerOwn', body)).status).toBe(200);
    expect((await view(world, 'admin')).groups.flatMap((g) => g.people.map((p) => p.ref))).toEqual([world.otherRef]);
    const [entry] = (await searchAudit(world.api.registry, { limit: 10, action: 'inside.take-out' })).entries;
    expect(entry).toMatchObject({ target: `*********${site.members.own.idNumber.slice(-3)}`, details: { reason: body.reason, checkpointCode: site.checkpoints.own } });
    expect(entry!.actor).toMatch(/^token:/);
    expect((await post(world, '/api/inside/take-out', 'managerOwn', body)).status).toBe(404);
  });
});

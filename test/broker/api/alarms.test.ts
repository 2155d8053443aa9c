import { describe, expect, it } from 'vitest';
import type { Telemetry } from '../../../protocol/messages.js';
import { CP_A, CP_B } from '../store/scanEvents.js';
import { useApi } from './apiHarness.js';
import { MAY_HUE, registryClient, TO_5 } from './registryFixture.js';

/**
 * `GET /api/alarms` and `POST /api/alarms/{id}/acknowledge` over a real socket on a real
 * store: each unit's manager sees only the alarms of its own checkpoints' terminals, a note is
 * required, the first acknowledgement stands and is audited, and an alarm that clears and
 * comes back is new again.
 */

const T0 = Date.parse('2026-12-03T08:00:00.000Z');
const MIN = 60_000;
const boot = '0193a1b2-0000-4000-8000-000000000002';

function failingStorage(atMs: number): Telemetry {
  return {
    v: 1,
    bootId: boot,
    at: new Date(atMs).toISOString(),
    uptimeS: 60,
    outboxDepth: 12,
    inFlight: 0,
    lists: [],
    scanners: [{ lane: 'in', connected: true }],
    clockTrusted: true,
    clockSynced: true,
    storage: { writable: false, error: 'SQLITE_FULL', since: new Date(atMs - MIN).toISOString(), failures: 3 },
  };
}

describe('alarms API', () => {
  const start = useApi();

  it("shows each unit's manager its own alarms only, takes an acknowledgement with a note once, audits it, and raises the alarm as new when it comes back", async () => {
    let nowMs = T0;
    const api = await start({ now: () => nowMs });
    await api.store.createCheckpoint({ code: CP_A, name: 'Cổng A', direction: 'both', confirm: 'auto', unit: MAY_HUE });
    await api.store.createCheckpoint({ code: CP_B, name: 'Cổng B', direction: 'both', confirm: 'auto', unit: TO_5 });
    await api.store.addTerminal({ terminalId: 'gate-a', checkpointCode: CP_A, secretHash: 'h', listScopes: ['site-a'] });
    await api.store.addTerminal({ terminalId: 'gate-b', checkpointCode: CP_B, secretHash: 'h', listScopes: ['phu-hoi'] });
    // gate-a went away 10 minutes ago; gate-b is online but its disk is full.
    await api.store.recordConnection('gate-a', true, T0 - 20 * MIN);
    await api.store.recordConnection('gate-a', false, T0 - 10 * MIN);
    await api.store.recordConnection('gate-b', true, T0 - MIN);
    await api.store.recordTelemetry('gate-b', failingStorage(T0), T0);
    const { json } = await registryClient(api);

    const all = await json('GET', '/api/alarms');
    expect(all.alarms.map((a: { kind: string; subject: { terminalId: string } }) => [a.kind, a.subject.terminalId])).toEqual([
      ['storage-failing', 'gate-b'],
      ['terminal-offline', 'gate-a'],
    ]);
    expect(all.counts).toEqual({ new: 2, acknowledged: 0 });
    const offline = all.alarms[1];
    expect(offline).toMatchObject({ severity: 'critical', since: new Date(T0 - 20 * MIN).toISOString(), acknowledged: null });

    const kinds = async (who: 'managerOwn' | 'managerOther' | 'guard') => (await json('GET', '/api/alarms', undefined, who)).alarms.map((a: { id: string }) => a.id);
    expect(await kinds('managerOwn')).toEqual([offline.id]);
    expect(await kinds('guard')).toEqual([offline.id]);
    expect(await kinds('managerOther')).toEqual([all.alarms[0].id]);
    await json('GET', '/api/alarms', undefined, 'inspector', 403);

    const path = `/api/alarms/${encodeURIComponent(offline.id)}/acknowledge`;
    // Another unit's alarm is not there for them; an empty note is refused; neither writes anything.
    expect((await json('POST', path, { note: 'đã xem' }, 'managerOther', 404)).error).toBe('not-found');
    expect((await json('POST', path, { note: '   ' }, 'managerOwn', 400)).reason).toBe('note: a note is required');
    expect((await json('POST', path, { note: 'x'.repeat(501) }, 'managerOwn', 400)).reason).toBe('note: at most 500 characters');
    expect(api.db.prepare('SELECT count(*) AS n FROM alarm_acks').get()).toEqual({ n: 0 });

    nowMs = T0 + MIN;
    const acked = await json('POST', path, { note: '  Đã gọi kỹ thuật viên, mất điện ở cổng A  ' }, 'managerOwn');
    expect(acked.alarm.acknowledged).toEqual({ by: expect.stringMatching(/^token:/), at: new Date(T0 + MIN).toISOString(), note: 'Đã gọi kỹ thuật viên, mất điện ở cổng A' });
    const conflict = await json('POST', path, { note: 'tôi cũng đã xem' }, 'admin', 409);
    expect(conflict.reason).toContain(acked.alarm.acknowledged.by);

    const after = await json('GET', '/api/alarms');
    expect(after.counts).toEqual({ new: 1, acknowledged: 1 });
    expect(after.alarms[1].acknowledged).toEqual(acked.alarm.acknowledged);

    const audit = api.db.prepare("SELECT actor, target, details FROM audit_log WHERE action = 'alarm.acknowledge'").all() as { actor: string; target: string; details: string }[];
    expect(audit).toHaveLength(1);
    expect(audit[0]!.target).toBe('gate-a');
    expect(audit[0]!.actor).toBe(acked.alarm.acknowledged.by);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ alarm: offline.id, kind: 'terminal-offline', terminalId: 'gate-a', checkpointCode: CP_A, note: 'Đã gọi kỹ thuật viên, mất điện ở cổng A' });
    const logged = api.log.lines.filter((line) => line.msg === 'alarm.acknowledged');
    expect(logged).toEqual([expect.objectContaining({ alarm: offline.id, kind: 'terminal-offline' })]);
    expect(JSON.stringify(logged)).not.toContain('kỹ thuật viên');

    // gate-a comes back: the alarm clears. It goes away again: a new alarm, new, not acknowledged.
    nowMs = T0 + 2 * MIN;
    await api.store.recordConnection('gate-a', true, nowMs);
    expect((await json('GET', '/api/alarms', undefined, 'managerOwn')).alarms).toEqual([]);
    await api.store.recordConnection('gate-a', false, T0 + 3 * MIN);
    nowMs = T0 + 10 * MIN;
    const again = await json('GET', '/api/alarms', undefined, 'managerOwn');
    expect(again.alarms).toEqual([expect.objectContaining({ kind: 'terminal-offline', since: new Date(T0 + 2 * MIN).toISOString(), acknowledged: null })]);
    expect(again.alarms[0].id).not.toBe(offline.id);
    expect(again.counts).toEqual({ new: 1, acknowledged: 0 });
  });
});

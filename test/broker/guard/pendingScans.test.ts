import { describe, expect, it } from 'vitest';
import { PendingScans } from '../../../broker/guard/pendingScans.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { pendingHeld } from '../mqtt/fixtures.js';

const gate = { terminalId: 'gate-1', checkpointCode: '10000000000008' };

describe('PendingScans', () => {
  it('keeps at most 16 scans per terminal, the newest, whatever a terminal sends', () => {
    const scans = new PendingScans({ logger: silentLogger() });
    const ids = Array.from({ length: 40 }, (_, i) => uuidv7(Date.now() + i));
    for (const id of ids) expect(scans.accept(gate, pendingHeld({ id }))).toBe(true);
    expect(scans.accept({ terminalId: 'gate-2', checkpointCode: gate.checkpointCode }, pendingHeld())).toBe(true);
    expect(scans.list([gate.checkpointCode]).filter((s) => s.terminalId === gate.terminalId).map((s) => s.id)).toEqual(ids.slice(-16));
    expect(scans.list()).toHaveLength(17);
  });

  it('does not believe an expiry beyond the longest manual timeout', () => {
    let nowMs = Date.parse('2026-12-03T08:00:00Z');
    const scans = new PendingScans({ logger: silentLogger(), now: () => nowMs });
    const id = uuidv7(nowMs);
    scans.accept(gate, pendingHeld({ id, at: new Date(nowMs).toISOString(), expiresAt: '2099-01-01T00:00:00.000Z' }));
    nowMs += 600_000;
    expect(scans.find(id).ok).toBe(true);
    nowMs += 6_000;
    expect(scans.find(id)).toMatchObject({ ok: false, why: 'resolved', outcome: { reason: 'timeout', answeredBy: null } });
    expect(scans.list()).toEqual([]);
  });
});

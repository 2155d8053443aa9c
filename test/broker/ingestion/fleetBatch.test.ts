import { describe, expect, it } from 'vitest';
import { FleetBatch } from '../../../broker/ingestion/fleetBatch.js';
import type { FleetUpdate } from '../../../broker/store/fleetUpdates.js';

const online = { v: 1, state: 'online', at: '2026-12-03T20:00:00Z', bootId: 'b' } as unknown as Extract<FleetUpdate, { kind: 'status' }>['status'];

describe('FleetBatch', () => {
  it('sends the updates of one turn in one call, every one in order, and the next turn in another', async () => {
    const calls: FleetUpdate[][] = [];
    const batch = new FleetBatch({ recordFleet: async (updates) => void calls.push([...updates]) });
    const first: FleetUpdate[] = [
      { kind: 'connection', terminalId: 't1', online: true, atMs: 1 },
      { kind: 'status', terminalId: 't1', status: online, atMs: 2 },
      { kind: 'status', terminalId: 't1', status: { ...online, state: 'offline' }, atMs: 3 },
      { kind: 'connection', terminalId: 't2', online: true, atMs: 4 },
    ];
    await Promise.all(first.map((update) => batch.add(update)));
    const second: FleetUpdate = { kind: 'connection', terminalId: 't1', online: false, atMs: 5 };
    await batch.add(second);
    expect(calls).toEqual([first, [second]]);
  });

  it("rejects each caller of a failed call, and the next turn's updates still go", async () => {
    let fail = true;
    const batch = new FleetBatch({
      recordFleet: async () => {
        if (fail) throw new Error('locked');
      },
    });
    const a = batch.add({ kind: 'connection', terminalId: 't1', online: true, atMs: 1 });
    const b = batch.add({ kind: 'connection', terminalId: 't2', online: true, atMs: 1 });
    await expect(a).rejects.toThrow('locked');
    await expect(b).rejects.toThrow('locked');
    fail = false;
    await expect(batch.add({ kind: 'connection', terminalId: 't1', online: true, atMs: 2 })).resolves.toBeUndefined();
  });
});

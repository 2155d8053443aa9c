import { describe, expect, it } from 'vitest';
import { decideConnect } from '../../../broker/auth/authenticate.js';
import { RegistrySnapshot } from '../../../broker/auth/registrySnapshot.js';
import { generateSecret, hashSecret } from '../../../broker/auth/secrets.js';
import type { Checkpoint, TerminalCredentials } from '../../../broker/store/centralStore.js';

const CP = '10000000000008';
const checkpoint = { code: CP, retiredAt: null } as Checkpoint;

async function terminal(terminalId: string, secret: string, extra: Partial<TerminalCredentials> = {}): Promise<TerminalCredentials> {
  return { terminalId, checkpointCode: CP, secretHash: await hashSecret(secret), removedAt: null, listScopes: ['default'], ...extra };
}

/** A store whose rows are `rows` and which counts the single lookups a login makes. */
function storeOf(rows: TerminalCredentials[]) {
  const store = {
    lookups: 0,
    listTerminalCredentials: async () => rows,
    listCheckpoints: async () => [checkpoint],
    getTerminalCredentials: async (id: string) => {
      store.lookups++;
      return rows.find((row) => row.terminalId === id) ?? null;
    },
    getCheckpoint: async (code: string) => (code === CP ? checkpoint : null),
  };
  return store;
}

function login(terminalId: string, secret: string) {
  return { facts: { clientId: terminalId, clean: true, willTopic: null }, username: terminalId, password: Buffer.from(secret) };
}

describe('logins against the registry snapshot', () => {
  it('admits a known terminal without a store lookup, and asks the store for what the snapshot cannot admit', async () => {
    const secret = generateSecret();
    const rows = [await terminal('gate-1', secret)];
    const store = storeOf(rows);
    const registry = new RegistrySnapshot(store);
    await registry.refresh();

    expect(await decideConnect(login('gate-1', secret), { store, registry, lab: false })).toMatchObject({ ok: true, principal: { terminalId: 'gate-1' } });
    expect(store.lookups).toBe(0);

    // Added and rotated since the snapshot: the store's rows decide, at once.
    const added = generateSecret();
    const rotated = generateSecret();
    rows.push(await terminal('gate-2', added));
    rows[0] = await terminal('gate-1', rotated);
    expect(await decideConnect(login('gate-2', added), { store, registry, lab: false })).toMatchObject({ ok: true });
    expect(await decideConnect(login('gate-1', rotated), { store, registry, lab: false })).toMatchObject({ ok: true, secretHash: rows[0].secretHash });
    expect(await decideConnect(login('gate-3', added), { store, registry, lab: false })).toEqual({ ok: false, reason: 'unknown-terminal' });
    expect(store.lookups).toBe(3);

    // Removed before the snapshot: refused for what the store says, not for what the snapshot held.
    rows[1] = await terminal('gate-2', added, { removedAt: '2026-12-03T20:00:00Z' });
    await registry.refresh();
    expect(await decideConnect(login('gate-2', added), { store, registry, lab: false })).toEqual({ ok: false, reason: 'terminal-removed' });
    expect(await decideConnect(login('gate-2', 'wrong'), { store, registry, lab: false })).toEqual({ ok: false, reason: 'bad-password' });
  });
});

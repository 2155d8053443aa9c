import type { Client, ConnectPacket } from 'aedes';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RegistrySnapshot } from '../../../broker/auth/registrySnapshot.js';
import { RevocationWatcher, revocationReason } from '../../../broker/auth/revocationWatcher.js';
import { Sessions } from '../../../broker/auth/sessions.js';
import type { Checkpoint, TerminalCredentials } from '../../../broker/store/centralStore.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { useTestStore } from '../../helpers/sqliteStore.js';
import { waitFor } from '../../helpers/waitFor.js';

const CP = '10000000000008';
const HASH = 'scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==';

/** A stand-in for an aedes Client: the watcher only reads it from Sessions and closes it. */
function fakeClient(id: string): Client & { closes: number } {
  const client = { id, closes: 0, close() { client.closes++; } };
  return client as unknown as Client & { closes: number };
}

describe('revocationReason', () => {
  const credentials: TerminalCredentials = { terminalId: 't1', checkpointCode: CP, secretHash: HASH, removedAt: null, listScopes: ['default'] };
  const checkpoint: Checkpoint = { code: CP, name: 'A', direction: 'in', confirm: 'auto', unit: '', latitude: null, longitude: null, branch: false, createdAt: '', retiredAt: null };

  it('keeps a terminal whose row still admits it, and names why one must go', () => {
    expect(revocationReason(HASH, credentials, checkpoint)).toBeNull();
    expect(revocationReason(HASH, null, checkpoint)).toBe('terminal-unknown');
    expect(revocationReason(HASH, { ...credentials, removedAt: 'x' }, checkpoint)).toBe('terminal-removed');
    expect(revocationReason('other', credentials, checkpoint)).toBe('secret-rotated');
    expect(revocationReason(HASH, credentials, { ...checkpoint, retiredAt: 'x' })).toBe('checkpoint-retired');
    expect(revocationReason(HASH, credentials, null)).toBe('checkpoint-retired');
    // Removal wins over a rotation made before it: the operator's last word.
    expect(revocationReason('other', { ...credentials, removedAt: 'x' }, checkpoint)).toBe('terminal-removed');
  });
});

describe('RevocationWatcher', () => {
  const testStore = useTestStore();
  const watchers: RevocationWatcher[] = [];
  afterEach(async () => {
    for (const watcher of watchers.splice(0)) await watcher.stop();
  });

  /** `defaultPoll`: the watcher polls at its own default interval, as the central runs it; else tests call poll(). */
  async function setup({ defaultPoll = false } = {}) {
    const store = await testStore();
    await store.createCheckpoint({ code: CP, name: 'A', direction: 'in', confirm: 'auto' });
    const sessions = new Sessions();
    const clients: (Client & { closes: number })[] = [];
    const connect = async (terminalId: string, kind: 'terminal' | 'lab' = 'terminal') => {
      if (kind === 'terminal') await store.addTerminal({ terminalId, checkpointCode: CP, secretHash: HASH, listScopes: ['default'] });
      const client = fakeClient(terminalId);
      sessions.noteConnect(client, { clientId: terminalId, clean: true } as ConnectPacket);
      if (kind === 'lab') sessions.admit(client, { kind: 'lab' });
      else sessions.admit(client, { kind: 'terminal', terminalId, checkpointCode: CP, listScopes: ['default'] }, HASH);
      clients.push(client);
      return client;
    };
    const log = captureLogger('info');
    const watcher = new RevocationWatcher({ registry: new RegistrySnapshot(store), sessions, clients: () => clients, logger: log.logger, ...(defaultPoll ? {} : { pollMs: 60_000 }) });
    watchers.push(watcher);
    return { store, connect, watcher, log };
  }

  it('closes each revoked terminal once, leaves the others and lab clients, and logs no hash', async () => {
    const { store, connect, watcher, log } = await setup();
    const [keep, removed, rotated, lab] = [await connect('keep'), await connect('removed'), await connect('rotated'), await connect('lab', 'lab')];
    await watcher.poll();
    expect([keep.closes, removed.closes, rotated.closes, lab.closes]).toEqual([0, 0, 0, 0]);

    await store.removeTerminal('removed');
    await store.setTerminalSecret('rotated', `${HASH}x`);
    await watcher.poll();
    await watcher.poll(); // a client aedes has not reported gone yet is not closed twice
    expect([keep.closes, removed.closes, rotated.closes, lab.closes]).toEqual([0, 1, 1, 0]);
    expect(log.messages('auth.session-revoked').map((l) => [l.terminalId, l.reason])).toEqual([
      ['removed', 'terminal-removed'],
      ['rotated', 'secret-rotated'],
    ]);
    expect(JSON.stringify(log.lines)).not.toMatch(/scrypt|hmac-sha256/);

    await store.retireCheckpoint(CP);
    await watcher.poll();
    expect(keep.closes).toBe(1);
    expect(log.messages('auth.session-revoked').at(-1)).toMatchObject({ terminalId: 'keep', reason: 'checkpoint-retired' });
  });

  it('once started, cuts off a terminal removed by another process within one second, without a call to poll()', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { store, connect, watcher } = await setup({ defaultPoll: true });
      const client = await connect('t1');
      watcher.start();
      await store.removeTerminal('t1');
      await vi.advanceTimersByTimeAsync(999);
      expect(client.closes).toBe(0); // no pass has run yet: what follows is the timer's doing
      await vi.advanceTimersByTimeAsync(1);
      await waitFor(() => client.closes === 1, 10_000, 'the first pass to close the removed terminal');
    } finally {
      vi.useRealTimers();
    }
  });

  it('logs a store failure and keeps watching', async () => {
    const { store, connect, watcher, log } = await setup();
    const client = await connect('t1');
    const real = store.listTerminalCredentials.bind(store);
    store.listTerminalCredentials = async () => {
      throw new Error('database is locked');
    };
    await watcher.poll();
    expect(log.messages('auth.revocation-check-failed')).toHaveLength(1);
    store.listTerminalCredentials = real;
    await store.removeTerminal('t1');
    await watcher.poll();
    expect(client.closes).toBe(1);
  });

  it('start and stop are safe to call twice', async () => {
    const { watcher } = await setup();
    watcher.start();
    watcher.start();
    await watcher.stop();
    await watcher.stop();
  });
});

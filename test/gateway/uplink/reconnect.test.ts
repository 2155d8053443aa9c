import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '../../fakes/captureLogger.js';
import { freePort } from '../../helpers/freePort.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { TERMINAL_ID, TestBroker, uplinkRig } from './rig.js';

describe('Uplink reconnects with its own backoff', () => {
  const tempDir = useTempDir();
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function run(stableConnectionMs: number) {
    const port = await freePort();
    const log = captureLogger();
    const r = uplinkRig({
      dataDir: tempDir(),
      url: `mqtt://127.0.0.1:${port}`,
      logger: log.logger,
      central: { reconnectMinMs: 50, reconnectMaxMs: 400 },
      // the top of the jitter range every time, so the ceilings show
      deps: { random: () => 1, stableConnectionMs },
    });
    cleanups.push(() => r.db.close());
    cleanups.push(() => r.uplink.stop());
    const delays = () => log.messages('uplink.reconnect-scheduled').map((l) => l.delayMs);
    r.uplink.start();
    await waitFor(() => delays().length >= 5, 10_000, 'five failed attempts');
    expect(delays().slice(0, 5)).toEqual([100, 200, 400, 400, 400]);
    // only the first failure of a streak is a warning; the rest are debug
    expect(log.messages('uplink.connect-failed').map((l) => l.level)).toEqual([40, ...Array(log.messages('uplink.connect-failed').length - 1).fill(20)]);

    const broker = await TestBroker.start({ port });
    cleanups.push(() => broker.kill());
    await waitFor(() => broker.clients.has(TERMINAL_ID) && r.uplink.connected, 10_000, 'connected');
    const before = delays().length;
    broker.clients.get(TERMINAL_ID)!.conn.destroy();
    await waitFor(() => delays().length > before, 10_000, 'reconnect scheduled after the cut');
    expect(log.messages('uplink.disconnected')).toHaveLength(1);
    await waitFor(() => log.messages('uplink.connected').length === 2, 10_000, 'connected again');
    await r.uplink.stop();
    return delays()[before];
  }

  it('starts over from the smallest wait after a connection that stayed up', async () => {
    expect(await run(0)).toBe(100);
  });

  it('keeps growing after a connection that dropped at once', async () => {
    expect(await run(60_000)).toBe(400);
  });
});

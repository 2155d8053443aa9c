import { readFileSync } from 'node:fs';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Central } from '../../../broker/central.js';
import { loadCentralConfig } from '../../../broker/config.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { createCentralSite, qrgate } from '../../helpers/centralSite.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { withDeadline } from '../../helpers/waitFor.js';

/**
 * Issue 5: a removed terminal, a rotated secret, a retired checkpoint cut a terminal off AT
 * ONCE. End to end: a real central on ephemeral ports, terminals connected over a real
 * socket, and each change made by a separate `qrgate` CLI process that only writes the
 * store. The connected client, which would otherwise stay for weeks, must be closed by the
 * central, and its reconnect refused (CONNACK 4 for a wrong secret,
 * 5 for a removed terminal or retired checkpoint). The one-second bound is held with fake
 * timers in revocationWatcher.test.ts; here the delays are only reported.
 */

/** How long to wait for a cut-off before calling it missing: a deadline for a loaded machine, not a speed claim. */
const cutOffDeadlineMs = 15_000;

describe('cutting off connected terminals', () => {
  const tempDir = useTempDir('qrgate-revocation-');
  const running: Array<{ central: Central; clients: MqttClient[] }> = [];
  afterEach(async () => {
    for (const { central, clients } of running.splice(0)) {
      await Promise.all(clients.map((client) => client.endAsync(true)));
      await central.stop();
    }
  });

  async function start() {
    const site = await createCentralSite(tempDir(), 0, { people: 1 });
    const terminals = await Promise.all(['gate-1', 'gate-2', 'gate-3'].map((name) => site.addTerminal(name)));
    const log = captureLogger('info');
    const central = new Central(loadCentralConfig(site.centralConfig), { logger: log.logger });
    const clients: MqttClient[] = [];
    running.push({ central, clients });
    const { mqttPort } = await central.start();
    const connect = async (terminal: { terminalId: string }, password: string): Promise<MqttClient> => {
      const options = { clientId: terminal.terminalId, username: terminal.terminalId, password, protocolVersion: 4 as const, reconnectPeriod: 0, connectTimeout: 5000 };
      const client = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, options, false);
      clients.push(client);
      return client;
    };
    /**
     * Runs `qrgate ARGS --central-config F` as its own process and measures from its exit
     * (the store is written) to the client's close. Resolves with the delay and the command's output.
     */
    const cutOffAfter = async (client: MqttClient, args: string[]): Promise<{ delayMs: number; out: string }> => {
      const closed = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
      const out = await qrgate([...args, '--central-config', site.centralConfig]);
      const committedAt = Date.now();
      const closedAt = await withDeadline(closed, cutOffDeadlineMs, `${client.options.clientId} to be disconnected`);
      return { delayMs: Math.max(0, closedAt - committedAt), out };
    };
    return { site, terminals, log, connect, cutOffAfter };
  }

  it('disconnects a removed terminal, a rotated secret and a retired checkpoint while they are connected, and refuses them after', async () => {
    const { site, terminals, log, connect, cutOffAfter } = await start();
    const [one, two, three] = terminals as [(typeof terminals)[0], (typeof terminals)[0], (typeof terminals)[0]];
    const delays: Record<string, number> = {};

    // Removed: cut off, then refused with CONNACK 5.
    const c1 = await connect(one, one.password);
    delays.remove = (await cutOffAfter(c1, ['terminals', 'remove', '--terminal-id', one.terminalId])).delayMs;
    await expect(connect(one, one.password)).rejects.toMatchObject({ code: 5 });

    // Rotated: cut off, the old secret refused with CONNACK 4, the new one accepted.
    const c2 = await connect(two, two.password);
    const rotation = await cutOffAfter(c2, ['terminals', 'rotate-secret', '--terminal-id', two.terminalId, '--json']);
    delays.rotate = rotation.delayMs;
    const answer = JSON.parse(rotation.out) as { terminalId: string; password: string };
    expect(answer).toEqual({ terminalId: two.terminalId, password: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
    await expect(connect(two, two.password)).rejects.toMatchObject({ code: 4 });
    const c2again = await connect(two, answer.password);
    expect(c2again.connected).toBe(true);

    // Retired checkpoint: every terminal of it is cut off and refused with CONNACK 5.
    const c3 = await connect(three, three.password);
    const c2gone = new Promise<void>((resolve) => c2again.once('close', () => resolve()));
    delays.retire = (await cutOffAfter(c3, ['checkpoints', 'retire', '--code', three.code])).delayMs;
    await withDeadline(c2gone, cutOffDeadlineMs, 'gate-2 to be disconnected by the retirement');
    await expect(connect(three, three.password)).rejects.toMatchObject({ code: 5 });
    await expect(connect(two, answer.password)).rejects.toMatchObject({ code: 5 });

    const revoked = log.messages('auth.session-revoked').map((l) => `${String(l.terminalId)} ${String(l.reason)}`);
    expect(revoked.slice(0, 2)).toEqual([`${one.terminalId} terminal-removed`, `${two.terminalId} secret-rotated`]);
    // One pass cuts both terminals of the retired checkpoint, in connection order.
    expect(revoked.slice(2).sort()).toEqual([`${two.terminalId} checkpoint-retired`, `${three.terminalId} checkpoint-retired`].sort());
    // No secret and no hash in any log line.
    const logText = log.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of [one.password, two.password, answer.password, three.password]) expect(logText).not.toContain(secret);
    expect(logText).not.toMatch(/scrypt\$|hmac-sha256\$/);
    expect(readFileSync(two.config, 'utf8')).toContain(two.password); // rotate-secret without --config leaves the file alone
    console.info(`cut-off delays after the CLI exited (ms): ${JSON.stringify(delays)}`);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import { ConnectionTally } from '../../../broker/mqtt/connectionTally.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { pollDeadline } from '../../helpers/pollDeadline.js';
import { closed, useBroker } from './brokerHarness.js';

describe('ConnectionTally', () => {
  it('writes one line per period in which clients came or went, and nothing for a quiet one', () => {
    const log = captureLogger('info');
    let connected = 0;
    const tally = new ConnectionTally(log.logger, { everyMs: 3_600_000, connected: () => connected });
    for (let i = 0; i < 3; i++) {
      connected++;
      tally.login();
    }
    connected--;
    tally.disconnect();
    tally.flush();
    tally.flush(); // nothing happened since
    tally.login();
    tally.flush();
    tally.connectionError(); // a client gone before its CONNECT completed is counted too
    tally.stop(); // the last period's line
    tally.flush(); // stopped: nothing more is counted, nothing more written
    const lines = log.messages('mqtt.connections');
    expect(lines.map(({ connected: now, logins, disconnects, connectionErrors }) => ({ now, logins, disconnects, connectionErrors }))).toEqual([
      { now: 2, logins: 3, disconnects: 1, connectionErrors: 0 },
      { now: 2, logins: 1, disconnects: 0, connectionErrors: 0 },
      { now: 2, logins: 0, disconnects: 0, connectionErrors: 1 },
    ]);
    expect(lines.every((line) => line.level === 30 && typeof line.periodMs === 'number')).toBe(true);
  });
});

describe('the broker logs logins as a summary', () => {
  const startBroker = useBroker();

  it('writes per-client lines at debug only, and the logins and disconnects in mqtt.connections', async () => {
    const h = await startBroker();
    const one = await h.addTerminal();
    const two = await h.addTerminal(one.checkpointCode);
    const first = await h.connectTerminal(one);
    await h.connectTerminal(two);
    await first.endAsync();
    await closed(first);
    await expect.poll(() => h.log.messages('mqtt.client-disconnected').length, pollDeadline).toBe(1);
    expect(h.log.messages('mqtt.client-connected').map((line) => line.level)).toEqual([20, 20]);
    expect(h.log.messages('mqtt.client-disconnected').map((line) => line.level)).toEqual([20]);

    await h.stop(); // the last period's line at stop, after every client is closed
    // One line per 10 s period: one here, unless a loaded machine let a period pass.
    const lines = h.log.messages('mqtt.connections');
    const sum = (key: 'logins' | 'disconnects') => lines.reduce((total, line) => total + (line[key] as number), 0);
    expect({ logins: sum('logins'), disconnects: sum('disconnects') }).toEqual({ logins: 2, disconnects: 2 });
    expect(lines.at(-1)).toMatchObject({ level: 30, connected: 0 });
  });
});

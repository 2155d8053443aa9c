import { performance } from 'node:perf_hooks';
import { describe, it, expect } from 'vitest';
import { terminalTopic } from '../../../protocol/topics.js';
import { useBroker } from '../mqtt/brokerHarness.js';
import { status } from '../mqtt/fixtures.js';
import { connectPacket, rawConnect } from '../mqtt/rawMqtt.js';
import { pollDeadline } from '../../helpers/pollDeadline.js';

/**
 * Repeated CONNECT failures over real sockets (broker/auth/failureThrottle.ts wired into
 * authenticate.ts): each refusal past the free ones waits longer, a terminal with its own
 * secret still gets in at once meanwhile (from the same address, under the attacked
 * username), and once too many refusals are waiting the next one is closed unanswered.
 */
describe('CONNECT: repeated failures are slowed down', () => {
  const startBroker = useBroker();
  const wrongPassword = 'wrong-but-secret-looking';

  it('holds each further refusal back longer', async () => {
    const authFailures = { freeFailures: 1, baseDelayMs: 200, maxDelayMs: 1600, windowMs: 60_000 };
    const h = await startBroker({ mqtt: { authFailures } });
    const t = await h.addTerminal();
    const wrong = h.terminalOptions(t, { password: wrongPassword });

    const heldBackMs = [0, 200, 400, 800, 1600, 1600];
    const measuredMs: number[] = [];
    for (let i = 0; i < heldBackMs.length; i++) {
      const startedAt = performance.now();
      expect(await h.connackCode(wrong)).toBe(4);
      measuredMs.push(Math.round(performance.now() - startedAt));
    }
    // Lower bounds only: scrypt and a loaded machine add time, never take the delay away.
    measuredMs.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual(heldBackMs[i]! - 5));

    // One line per source for the whole run, never the password.
    expect(h.log.messages('auth.throttled').map((l) => l.source)).toEqual(['address', 'username']);
    expect(h.log.messages('auth.throttled')[1]).toMatchObject({ username: t.terminalId, failures: 2, delayMs: 200 });
    expect(JSON.stringify(h.log.lines)).not.toContain(wrongPassword);
    console.info(`refusal times (ms) for delays ${JSON.stringify(heldBackMs)}: ${JSON.stringify(measuredMs)}`);
  }, 30_000);

  it('closes a failing connection without CONNACK once maxPendingRefusals are held, and admits the terminal while one is held', async () => {
    const h = await startBroker({ mqtt: { authFailures: { freeFailures: 0, baseDelayMs: 20_000, maxDelayMs: 20_000, maxPendingRefusals: 1 } } });
    const t = await h.addTerminal();
    const attempt = connectPacket(t.terminalId, true, { username: t.terminalId, password: wrongPassword });

    const heldOne = await rawConnect(h.port);
    heldOne.socket.write(attempt);
    await expect.poll(() => h.log.messages('mqtt.auth-refused'), pollDeadline).toHaveLength(1); // decided, now held for 20 s

    const dropped = await rawConnect(h.port);
    dropped.socket.write(attempt);
    await dropped.closed;
    expect(dropped.received().length).toBe(0); // no CONNACK at all
    expect(heldOne.received().length).toBe(0); // still waiting

    // Held for 20 s: the right secret, same address and username, gets in before it is
    // answered however slow the machine, with no race against the delay.
    expect((await h.connectTerminal(t)).connected).toBe(true);
    expect(heldOne.received().length).toBe(0);
    heldOne.socket.destroy();
  });

  it('never holds back a refusal that is not a guess: a will outside its topics, a store that cannot answer', async () => {
    // Any held refusal would wait 20 s, far past the test's deadline.
    const h = await startBroker({ mqtt: { authFailures: { freeFailures: 0, baseDelayMs: 20_000, maxDelayMs: 20_000 } } });
    const t = await h.addTerminal();
    const other = await h.addTerminal(t.checkpointCode);
    const will = { topic: terminalTopic(other.checkpointCode, other.terminalId, 'status'), payload: Buffer.from(status('offline')), qos: 1 as const, retain: true };
    for (let i = 0; i < 3; i++) expect(await h.connackCode(h.terminalOptions(t, { will }))).toBe(5);
    h.store.getTerminalCredentials = () => Promise.reject(new Error('database is locked'));
    for (let i = 0; i < 3; i++) expect(await h.connackCode(h.terminalOptions(t))).toBe(3);
    expect(h.log.messages('auth.throttled')).toEqual([]);
  });
});

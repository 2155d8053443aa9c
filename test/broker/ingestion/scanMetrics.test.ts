import { createToken } from '../../../broker/access/tokens.js';
import { withRegistry } from '../../../broker/registry/registryDb.js';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSecret, hashSecret } from '../../../broker/auth/secrets.js';
import { Central } from '../../../broker/central.js';
import { loadCentralConfig, withCentralStore, type CentralConfigInput } from '../../../broker/config.js';
import type { ScanEvent } from '../../../protocol/event.js';
import { generateCheckpointCode } from '../../../protocol/checkpointCode.js';
import { terminalTopic } from '../../../protocol/topics.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { parseExposition, sampleValue, type Sample } from '../../helpers/prometheusText.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { writeCentralSite } from '../mqtt/centralFixture.js';
import { batch, scanEvents, type TerminalIdentity } from '../mqtt/fixtures.js';

/**
 * `qrgate_scans_total` through the whole path: a terminal publishes over MQTT, the central
 * stores into SQLite, `GET /metrics` is scraped over HTTP.
 */
describe('qrgate_scans_total', () => {
  const tempDir = useTempDir('qrgate-scans-');
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function start(overrides: Partial<CentralConfigInput> = {}) {
    const config = loadCentralConfig(writeCentralSite(tempDir(), overrides));
    const terminals = await withCentralStore(config, { logger: silentLogger() }, async (store) =>
      Promise.all(
        ['gate-a-1', 'gate-b-1'].map(async (terminalId) => {
          const checkpointCode = generateCheckpointCode();
          await store.createCheckpoint({ code: checkpointCode, name: terminalId, direction: 'both', confirm: 'auto' });
          const secret = generateSecret();
          await store.addTerminal({ terminalId, checkpointCode, secretHash: await hashSecret(secret), listScopes: ['default'] });
          return { terminalId, checkpointCode, secret };
        }),
      ),
    );
    const central = new Central(config, { logger: captureLogger('warn').logger });
    const ports = await central.start();
    cleanup.push(() => central.stop());

    async function publish(terminal: TerminalIdentity & { readonly secret: string }, events: readonly ScanEvent[]): Promise<void> {
      const client = await connectAsync(
        `mqtt://127.0.0.1:${ports.mqttPort}`,
        { clientId: terminal.terminalId, username: terminal.terminalId, password: terminal.secret, protocolVersion: 4, reconnectPeriod: 0 },
        false,
      );
      try {
        // Resolves on PUBACK, which the central sends after the commit.
        await client.publishAsync(terminalTopic(terminal.checkpointCode, terminal.terminalId, 'events'), batch(events), { qos: 1 });
      } finally {
        await client.endAsync();
      }
    }

    // Prometheus scrapes with a bearer token; an inspector's will do.
    const { token } = await withRegistry(config, (db) => createToken(db, { name: 'prometheus', role: 'inspector', readOnly: true, createdBy: 'test' }));
    async function scrape(): Promise<Sample[]> {
      const response = await fetch(`http://127.0.0.1:${ports.httpPort}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      return parseExposition(await response.text()).samples;
    }

    return { terminals: terminals as [(typeof terminals)[number], (typeof terminals)[number]], publish, scrape };
  }

  /** `count` events of one terminal with the decision and reason given, numbered from `firstSeq`. */
  function decided(who: TerminalIdentity, count: number, firstSeq: number, decision: ScanEvent['decision'], reason: ScanEvent['reason']): ScanEvent[] {
    return scanEvents(who, count, firstSeq).map((event) => ({ ...event, decision, reason }));
  }

  it('counts first-time events by decision and reason, not their redeliveries, with no checkpoint label by default', async () => {
    const c = await start();
    const [a, b] = c.terminals;
    const granted = decided(a, 3, 1, 'granted', 'allowed');
    const refused = decided(a, 2, 4, 'refused', 'unknown');
    await c.publish(a, [...granted, ...refused]);
    await c.publish(b, decided(b, 4, 1, 'granted', 'allowed'));

    let samples = await c.scrape();
    expect(sampleValue(samples, 'qrgate_scans_total', { decision: 'granted', reason: 'allowed' })).toBe(7);
    expect(sampleValue(samples, 'qrgate_scans_total', { decision: 'refused', reason: 'unknown' })).toBe(2);

    // The same events again (a terminal that lost its PUBACKs) and one new one.
    const late = decided(a, 1, 6, 'duplicate', 'debounce');
    await c.publish(a, [...granted, ...refused, ...late]);
    samples = await waitFor(
      async () => {
        const now = await c.scrape();
        return sampleValue(now, 'qrgate_events_duplicate_total') === 5 ? now : null;
      },
      10_000,
      'the redeliveries to be counted as duplicates',
    );
    expect(sampleValue(samples, 'qrgate_scans_total', { decision: 'granted', reason: 'allowed' })).toBe(7);
    expect(sampleValue(samples, 'qrgate_scans_total', { decision: 'refused', reason: 'unknown' })).toBe(2);
    expect(sampleValue(samples, 'qrgate_scans_total', { decision: 'duplicate', reason: 'debounce' })).toBe(1);

    const scans = samples.filter((s) => s.name === 'qrgate_scans_total');
    expect(scans.every((s) => Object.keys(s.labels).sort().join() === 'decision,reason')).toBe(true);
    // Every stored event is in exactly one series.
    expect(scans.reduce((sum, s) => sum + s.value, 0)).toBe(sampleValue(samples, 'qrgate_events_ingested_total'));
  });

  it('adds the checkpoint label when metrics.perCheckpoint is on', async () => {
    const c = await start({ metrics: { perCheckpoint: true } });
    const [a, b] = c.terminals;
    await c.publish(a, decided(a, 3, 1, 'granted', 'allowed'));
    const atB = decided(b, 2, 1, 'granted', 'allowed');
    await c.publish(b, [...atB, ...decided(b, 1, 3, 'refused', 'denied')]);
    await c.publish(b, atB); // redelivered

    const samples = await waitFor(
      async () => {
        const now = await c.scrape();
        return sampleValue(now, 'qrgate_events_duplicate_total') === 2 ? now : null;
      },
      10_000,
      'the redeliveries to be counted as duplicates',
    );
    expect(samples.filter((s) => s.name === 'qrgate_scans_total').map((s) => [s.labels, s.value])).toEqual(
      expect.arrayContaining([
        [{ decision: 'granted', reason: 'allowed', checkpoint: a.checkpointCode }, 3],
        [{ decision: 'granted', reason: 'allowed', checkpoint: b.checkpointCode }, 2],
        [{ decision: 'refused', reason: 'denied', checkpoint: b.checkpointCode }, 1],
      ]),
    );
    expect(samples.filter((s) => s.name === 'qrgate_scans_total')).toHaveLength(3);
    expect(sampleValue(samples, 'qrgate_scans_total', { decision: 'granted', reason: 'allowed' })).toBeUndefined();
  });
});

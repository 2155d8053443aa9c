import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEventBatch, validateStatus, validateTelemetry } from '../../../broker/ingestion/validate.js';
import { terminalTopic, type TerminalLeaf } from '../../../protocol/topics.js';
import { damagedJson, payloadMarker } from '../../helpers/jsonMutations.js';
import { waitFor, withDeadline } from '../../helpers/waitFor.js';
import { useBroker } from '../mqtt/brokerHarness.js';
import { batch, scanEvents, status, telemetry, type TerminalIdentity } from '../mqtt/fixtures.js';

/**
 * Damaged payloads through a real broker and a real socket (fast-check): 8 runs of 60
 * publishes, 480 in all, on the terminal's own events, status and telemetry topics. Each
 * is counted and logged as malformed, none is stored, and the broker and the connection
 * carry on: a good batch sent afterwards is stored.
 */

const RUNS = 8;
const PUBLISHES_PER_RUN = 60;

/** The leaves ingestion stores; `pending` has its own fuzz-free checks (test/broker/guard). */
type IngestedLeaf = Exclude<TerminalLeaf, 'pending'>;

function refused(leaf: IngestedLeaf, payload: Buffer | string, who: TerminalIdentity): boolean {
  if (leaf === 'events') return !validateEventBatch(payload, who).ok;
  return !(leaf === 'status' ? validateStatus(payload) : validateTelemetry(payload)).ok;
}

describe('ingestion: fuzzed publishes on a real socket (fast-check)', () => {
  const startBroker = useBroker();

  it(`counts every damaged payload as malformed, stores none, and keeps going (${RUNS * PUBLISHES_PER_RUN} publishes)`, async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    const valid = { events: batch(scanEvents(t, 2)), status: status('online'), telemetry: telemetry() };
    const publish = fc.constantFrom<IngestedLeaf>('events', 'status', 'telemetry').chain((leaf) => fc.record({ leaf: fc.constant(leaf), payload: damagedJson(valid[leaf]) }));
    let expected = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(publish, { minLength: PUBLISHES_PER_RUN, maxLength: PUBLISHES_PER_RUN }), async (publishes) => {
        // A mutation can leave a payload valid (a number still in range): those are not sent,
        // so everything sent must come out malformed.
        const bad = publishes.filter(({ leaf, payload }) => refused(leaf, payload, t));
        for (const { leaf, payload } of bad) {
          const topic = terminalTopic(t.checkpointCode, t.terminalId, leaf);
          await withDeadline(client.publishAsync(topic, Buffer.from(payload), { qos: 1 }), 10_000, `the PUBACK for a damaged ${leaf} payload`);
        }
        expected += bad.length;
        await waitFor(() => h.metric('qrgate_messages_malformed_total') === expected, 10_000, `${expected} malformed counted`);
        expect(client.connected).toBe(true);
        expect(h.store.events.size).toBe(0);
        expect(h.store.statuses).toEqual([]);
        expect(h.store.telemetry).toEqual([]);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );

    expect(expected).toBeGreaterThan(RUNS * PUBLISHES_PER_RUN * 0.8);
    expect(h.log.messages('ingest.malformed')).toHaveLength(expected);
    expect(JSON.stringify(h.log.lines)).not.toContain(payloadMarker);
    await client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'events'), valid.events, { qos: 1 });
    expect(h.store.events.size).toBe(2);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { terminalTopic, type TerminalLeaf } from '../../../protocol/topics.js';
import { payloadMarker } from '../../helpers/jsonMutations.js';
import { eventBatchShape, invalidPayload, statusShape, telemetryShape } from '../../helpers/payloadOracle.js';
import { waitFor, withDeadline } from '../../helpers/waitFor.js';
import { useBroker } from '../mqtt/brokerHarness.js';
import { batch, scanEvents } from '../mqtt/fixtures.js';

/**
 * Payloads invalid by construction (test/helpers/payloadOracle.ts: one field or byte broken
 * in a known way) through a real broker and a real socket (fast-check): 8 runs of 60
 * publishes, 480 in all, on the terminal's own events, status and telemetry topics. Each
 * is counted and logged as malformed, none is stored, and the broker and the connection
 * carry on: a good batch sent afterwards is stored.
 */

const RUNS = 8;
const PUBLISHES_PER_RUN = 60;

/** The leaves ingestion stores; `pending` and `cmd-acks` have their own checks (test/broker/guard, test/broker/commands). */
type IngestedLeaf = Exclude<TerminalLeaf, 'pending' | 'cmd-acks'>;

describe('ingestion: fuzzed publishes on a real socket (fast-check)', () => {
  const startBroker = useBroker();

  it(`counts every damaged payload as malformed, stores none, and keeps going (${RUNS * PUBLISHES_PER_RUN} publishes)`, async () => {
    const h = await startBroker();
    const t = await h.addTerminal();
    const client = await h.connectTerminal(t);
    const shapes = { events: eventBatchShape(t), status: statusShape, telemetry: telemetryShape };
    const publish = fc
      .constantFrom<IngestedLeaf>('events', 'status', 'telemetry')
      .chain((leaf) => fc.record({ leaf: fc.constant(leaf), payload: invalidPayload(shapes[leaf]).map((broken) => broken.payload) }));
    let expected = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(publish, { minLength: PUBLISHES_PER_RUN, maxLength: PUBLISHES_PER_RUN }), async (publishes) => {
        // Invalid by construction, not by the validator's say: every one must come out malformed.
        for (const { leaf, payload } of publishes) {
          const topic = terminalTopic(t.checkpointCode, t.terminalId, leaf);
          await withDeadline(client.publishAsync(topic, Buffer.from(payload), { qos: 1 }), 10_000, `the PUBACK for a damaged ${leaf} payload`);
        }
        expected += publishes.length;
        await waitFor(() => h.metric('qrgate_messages_malformed_total') === expected, 10_000, `${expected} malformed counted`);
        expect(client.connected).toBe(true);
        expect(h.store.eventCount()).toBe(0);
        expect(h.store.statuses).toEqual([]);
        expect(h.store.telemetry).toEqual([]);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );

    expect(expected).toBe(RUNS * PUBLISHES_PER_RUN);
    expect(h.log.messages('ingest.malformed')).toHaveLength(expected);
    expect(JSON.stringify(h.log.lines)).not.toContain(payloadMarker);
    await client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'events'), batch(scanEvents(t, 2)), { qos: 1 });
    expect(h.store.eventCount()).toBe(2);
  });
});

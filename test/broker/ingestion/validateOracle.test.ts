import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEventBatch, validateStatus, validateTelemetry, type Validated } from '../../../broker/ingestion/validate.js';
import { payloadMarker } from '../../helpers/jsonMutations.js';
import {
  eventBatchShape,
  invalidPayload,
  statusShape,
  telemetryShape,
  validPayload,
  type InvalidPayload,
  type Publisher,
  type Shape,
} from '../../helpers/payloadOracle.js';

/**
 * The ingestion validator judged against the construction, not against itself
 * (test/helpers/payloadOracle.ts): a payload built valid must be accepted with exactly its
 * value (unknown keys of a scan event dropped), and one built with a single known break
 * must be refused with a reason that names where the break is and quotes nothing back.
 * 4 x 1,000 + 3 x 500 cases per run.
 */

const RUNS = 1000;

const publisher: fc.Arbitrary<Publisher> = fc.record({
  terminalId: fc.string({ minLength: 1, maxLength: 64 }),
  checkpointCode: fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 14, maxLength: 14 }),
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Refused, printable, short, quoting nothing, and naming the broken place as the construction put it. */
function expectRefusedFor<T>(result: Validated<T>, broken: InvalidPayload): void {
  expect(result.ok, `accepted a payload broken (${broken.kind}) at ${broken.path}`).toBe(false);
  if (result.ok) return;
  expect(result.reason).toMatch(/^[\x20-\x7e]{1,300}…?$/);
  expect(result.reason).not.toContain(payloadMarker);
  if (broken.kind === 'not-json') expect(result.reason).toBe('not JSON');
  else expect(result.reason).toMatch(new RegExp(`(?:^schema: |; |^)${escape(broken.path)}(?:: | is not )`));
}

const bytes = (payload: string) => Buffer.from(payload, 'utf8');

const messages: ReadonlyArray<readonly [Shape, (payload: Buffer) => Validated<unknown>]> = [
  [statusShape, validateStatus],
  [telemetryShape, validateTelemetry],
];

describe('the ingestion validator against payloads valid or invalid by construction (fast-check)', () => {
  it(`accepts every event batch built valid, handing on exactly its events (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(publisher.chain((who) => fc.tuple(fc.constant(who), validPayload(eventBatchShape(who)))), ([who, { payload, kept }]) => {
        const result = validateEventBatch(bytes(payload), who);
        expect(result).toEqual({ ok: true, value: (kept as { events: unknown[] }).events });
      }),
      { numRuns: RUNS },
    );
  });

  it(`refuses every event batch built with one break, naming where (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(publisher.chain((who) => fc.tuple(fc.constant(who), invalidPayload(eventBatchShape(who)))), ([who, broken]) => {
        expectRefusedFor(validateEventBatch(bytes(broken.payload), who), broken);
      }),
      { numRuns: RUNS },
    );
  });

  it('an unknown key in a scan event is accepted and dropped (the event schema is lenient); in the envelope it is refused', () => {
    const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };
    const { kept } = fc.sample(validPayload(eventBatchShape(who)), { numRuns: 1, seed: 1 })[0]!;
    const events = (kept as { events: Array<Record<string, unknown>> }).events;
    const sent = JSON.stringify({ v: 1, events: events.map((event) => ({ ...event, [`${payloadMarker}future`]: 1 })) });
    expect(validateEventBatch(sent, who)).toEqual({ ok: true, value: events });
    expect(validateEventBatch(JSON.stringify({ v: 1, events, [`${payloadMarker}future`]: 1 }), who)).toEqual({
      ok: false,
      reason: 'schema: (top level): 1 unrecognized key(s)',
    });
  });

  it(`status and telemetry: accepted exactly when built valid (2 x ${RUNS / 2} cases)`, () => {
    for (const [shape, validate] of messages) {
      fc.assert(
        fc.property(validPayload(shape), ({ payload, kept }) => {
          expect(validate(bytes(payload))).toEqual({ ok: true, value: kept });
        }),
        { numRuns: RUNS / 2 },
      );
    }
  });

  it(`status and telemetry: refused, naming where, when built with one break (2 x ${RUNS / 2} cases)`, () => {
    for (const [shape, validate] of messages) {
      fc.assert(
        fc.property(invalidPayload(shape), (broken) => expectRefusedFor(validate(bytes(broken.payload)), broken)),
        { numRuns: RUNS / 2 },
      );
    }
  });

  it('the construction breaks payloads every way it claims to, in every part', () => {
    const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };
    const samples = fc.sample(invalidPayload(eventBatchShape(who)), { numRuns: 3000, seed: 7 });
    expect(new Set(samples.map((s) => s.kind))).toEqual(new Set(['wrong-type', 'refused-value', 'missing', 'unknown-key', 'not-json']));
    const eventFields = new Set(samples.map((s) => /^events\[\d+\]\.(\w+)$/.exec(s.path)?.[1]).filter(Boolean));
    expect(eventFields.size).toBe(17);
    expect(samples.some((s) => s.path === 'events' && s.kind === 'refused-value' && s.payload.length > 200 * 300)).toBe(true);
  });
});

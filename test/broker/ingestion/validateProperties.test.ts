import fc from 'fast-check';
import { propertyRuns } from '../../helpers/propertyRuns.js';
import { describe, expect, it } from 'vitest';
import { validateEventBatch, validateStatus, validateTelemetry, type Validated } from '../../../broker/ingestion/validate.js';
import { maxEventsPerBatch } from '../../../protocol/messages.js';
import { damagedJson as damaged, payloadMarker } from '../../helpers/jsonMutations.js';
import { batch, scanEvents, status, telemetry } from '../mqtt/fixtures.js';

/**
 * What terminals publish, damaged field by field and byte by byte (fast-check): every
 * payload is accepted or refused with a short printable reason that quotes nothing back;
 * nothing throws. Each run: 3 x 1,000 = 3,000 cases.
 */

const RUNS = propertyRuns(1000);
const who = { terminalId: 'gate-a-1', checkpointCode: '10000000000008' };
const validBatch = batch(scanEvents(who, 3));

function expectCleanRefusal<T>(result: Validated<T>): void {
  if (result.ok) return;
  expect(result.reason).toMatch(/^[\x20-\x7e]{1,300}…?$/);
  expect(result.reason).not.toContain(payloadMarker);
}

describe('payload validation under damaged payloads (fast-check)', () => {
  it(`event batches: accepted only whole and only as the publishing terminal's, else refused with a reason (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(damaged(validBatch), (payload) => {
        const result = validateEventBatch(payload, who);
        expectCleanRefusal(result);
        if (!result.ok) return;
        expect(result.value.length).toBeGreaterThanOrEqual(1);
        expect(result.value.length).toBeLessThanOrEqual(maxEventsPerBatch);
        for (const event of result.value) expect(event).toMatchObject(who);
      }),
      { numRuns: RUNS },
    );
  });

  it(`status: accepted or refused with a reason (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(damaged(status('online')), (payload) => expectCleanRefusal(validateStatus(payload))),
      { numRuns: RUNS },
    );
  });

  it(`telemetry: accepted or refused with a reason (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(damaged(telemetry()), (payload) => expectCleanRefusal(validateTelemetry(payload))),
      { numRuns: RUNS },
    );
  });
});

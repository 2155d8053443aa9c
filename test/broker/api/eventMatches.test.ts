import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventMatches, type EventFilter } from '../../../broker/api/routes/events.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { decisions, directions, type ScanEvent } from '../../../protocol/event.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { CP_A, CP_B } from '../store/scanEvents.js';
import { ANH, DUC, eventMaker, MINUTE, NOW } from './eventsFixture.js';

/**
 * The live feed filters events in memory (eventMatches) that `/api/events` and `/events.csv`
 * filter in SQL: both must pick the same events for any filter, bounds landing exactly on
 * an event's time included (fast-check against a real SQLite store).
 */

const RUNS = 300;
const COUNT = 400;
const tempDir = useTempDir('qrgate-event-matches-');
let store: SqliteCentralStore;
let events: ScanEvent[];

beforeAll(async () => {
  store = new SqliteCentralStore({ file: join(tempDir(), 'central.db'), logger: silentLogger() });
  await store.migrate();
  events = eventMaker(personRef)(COUNT);
  await store.insertEvents(events, NOW);
});
afterAll(() => store.close());

/** A distinct ref per ID number (eventMaker's two people), as the registry's hasher would give. */
const personRef = (idNumber: string): string => idNumber.padStart(64, '0');
/** A few people's refs (looked up in the store's index) or hundreds (tested while walking). */
const someRefs = fc.subarray([personRef(ANH.id), personRef(DUC.id), 'f'.repeat(64)]);
const refs = fc.oneof(someRefs, someRefs.map((few) => [...few, ...Array.from({ length: 100 }, (_, i) => personRef(String(i)))]));

/** A bound on a whole minute (an event's exact time) or between two. */
const instant = fc.integer({ min: -5, max: 2 * (COUNT + 5) }).map((halfMinutes) => new Date(NOW - (halfMinutes * MINUTE) / 2).toISOString());
const filter: fc.Arbitrary<EventFilter> = fc
  .record(
    {
      checkpoint: fc.constantFrom(CP_A, CP_B),
      checkpoints: fc.subarray([CP_A, CP_B]),
      terminal: fc.constantFrom('gate-a-1', 'gate-a-2', 'gate-b-1', 'gate-b-2', 'gate-c-1'),
      from: instant,
      to: instant,
      direction: fc.constantFrom(...directions),
      decision: fc.constantFrom(...decisions),
      credentialRefs: refs,
    },
    { requiredKeys: [] },
  )
  .filter((f) => f.from === undefined || f.to === undefined || f.from < f.to);

describe('eventMatches against the store (fast-check)', () => {
  it(`picks exactly the events the store's search returns (${RUNS} filters)`, async () => {
    await fc.assert(
      fc.asyncProperty(filter, async (f) => {
        const page = await store.searchEvents({ ...f, limit: 1000 });
        const inMemory = events.filter((event) => eventMatches(f, event)).map((event) => event.id);
        expect(new Set(inMemory)).toEqual(new Set(page.events.map((event) => event.id)));
      }),
      { numRuns: RUNS },
    );
  });
});

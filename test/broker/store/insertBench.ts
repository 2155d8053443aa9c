/**
 * insertEvents throughput and per-commit stall on a real file, the number DESIGN.md asks
 * us to watch (a synchronous commit stalls every MQTT connection while it runs).
 *
 *   npx tsx test/broker/store/insertBench.ts [--events 100000] [--batch 2000] [--terminals 200]
 *                                            [--synchronous NORMAL|FULL] [--late-percent 0] [--people 1]
 *                                            [--store sqlite|postgres] [--url postgresql://…] [--in-flight 1]
 *
 * With `--store postgres` it creates a database of its own on `--url`'s server (default the
 * machine's, as the tests use) and drops it at the end; `--in-flight` batches are inserted at
 * once (several ingestion commits, or several centrals, writing together).
 *
 * Not a vitest file: timings on a shared CI machine make poor assertions. Prints one JSON object.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { ScanEvent } from '../../../protocol/event.js';
import type { CentralStore } from '../../../broker/store/centralStore.js';
import { PostgresCentralStore } from '../../../broker/store/postgres/pgStore.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { scratchDatabase } from '../../../cli/bench/store/scratchDatabase.js';
import { adminUrl } from '../../helpers/postgres.js';
import { checkpointCode, scanEvent, seededRandom } from './scanEvents.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '2000' },
    terminals: { type: 'string', default: '200' },
    synchronous: { type: 'string', default: 'NORMAL' },
    'late-percent': { type: 'string', default: '0' },
    // How many different people scan: their refs are random, as HMACs are, so with many
    // people each insert lands at a random place in events_credential (the realistic case).
    people: { type: 'string', default: '1' },
    store: { type: 'string', default: 'sqlite' },
    url: { type: 'string', default: adminUrl },
    'in-flight': { type: 'string', default: '1' },
  },
});
const inFlight = Math.max(1, Number(values['in-flight']));
const totalEvents = Number(values.events);
const batchSize = Number(values.batch);
const terminalCount = Number(values.terminals);
const latePercent = Number(values['late-percent']);
const synchronous = values.synchronous === 'FULL' ? 'FULL' : 'NORMAL';
const people = Math.max(1, Number(values.people));
const personRef = (n: number): string => createHash('sha256').update(String(n)).digest('hex');

/**
 * Terminals scanning round-robin, one event per ms. With `latePercent`, that share of each
 * batch is held back to the next one: the shape of a terminal whose publishes overtake
 * each other, which exercises the gap open/fill path.
 */
function* eventBatches(): Generator<ScanEvent[]> {
  const random = seededRandom(1);
  const seqs = new Array<number>(terminalCount).fill(0);
  let tsMs = startTsMs;
  let heldBack: ScanEvent[] = [];
  for (let made = 0; made < totalEvents; ) {
    const batch = heldBack;
    heldBack = [];
    while (batch.length < batchSize && made < totalEvents) {
      const t = made % terminalCount;
      const scanned = scanEvent(
        { terminalId: `gate-${t}`, checkpointCode: checkpointCode(String(1_000_000_000_000 + (t >> 2))), seq: ++seqs[t]!, tsMs: tsMs++ },
        false,
      );
      const event = people === 1 ? scanned : { ...scanned, credentialRef: personRef(random(people)) };
      made++;
      if (random(100) < latePercent) heldBack.push(event);
      else batch.push(event);
    }
    yield batch;
  }
  if (heldBack.length > 0) yield heldBack;
}

const startTsMs = Date.UTC(2025, 4, 1);
/** Events are 1 ms apart, so all of them fall inside the stats' last hour. */
const lastTsMs = startTsMs + totalEvents;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const dir = mkdtempSync(join(tmpdir(), 'qrgate-insert-bench-'));
const database = values.store === 'postgres' ? await scratchDatabase(values.url) : undefined;
const store: CentralStore =
  database === undefined
    ? new SqliteCentralStore({ file: join(dir, 'central.db'), logger: pino({ level: 'silent' }), synchronous })
    : new PostgresCentralStore({ url: database.url, logger: pino({ level: 'silent' }), maxConnections: inFlight + 2 });
try {
  await store.migrate();
  const commitsMs: number[] = [];
  let inserted = 0;
  const wallStart = performance.now();
  const batchesLeft = eventBatches();
  // `inFlight` writers, each taking the next batch as soon as its last one committed.
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let next = batchesLeft.next(); !next.done; next = batchesLeft.next()) {
        const start = performance.now();
        inserted += (await store.insertEvents(next.value, Date.now())).inserted;
        commitsMs.push(performance.now() - start);
      }
    }),
  );
  const wallS = (performance.now() - wallStart) / 1000;
  const timed = async (read: () => Promise<unknown>): Promise<number> => {
    const start = performance.now();
    await read();
    return performance.now() - start;
  };
  const busiest = checkpointCode('1000000000000');
  await store.createCheckpoint({ code: busiest, name: 'busiest', direction: 'both', confirm: 'auto' });
  const statsMs = await timed(async () => {
    if ((await store.checkpointStats(busiest, lastTsMs))?.lastHour === 0) throw new Error('the benchmark stats read nothing');
  });
  const pageMs = await timed(() => store.searchEvents({ checkpoint: busiest, decision: 'granted', limit: 100 }));
  const insertS = commitsMs.reduce((a, b) => a + b, 0) / 1000;
  const sorted = [...commitsMs].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  console.log(
    JSON.stringify(
      {
        store: values.store,
        inFlight,
        events: totalEvents,
        inserted,
        batch: batchSize,
        terminals: terminalCount,
        synchronous,
        latePercent,
        people,
        gapsLeft: (await store.gaps()).length,
        firstCommitMs: round(commitsMs[0]!),
        commitMs: { p50: round(percentile(sorted, 0.5)), p95: round(percentile(sorted, 0.95)), max: round(sorted.at(-1)!) },
        // Summed commit time: with several in flight, the wall clock (below) is the number that counts.
        eventsPerSecond: Math.round(inserted / insertS),
        eventsPerSecondWithGeneration: Math.round(inserted / wallS),
        eventsAtBusiestCheckpoint: Math.ceil(totalEvents / Math.ceil(terminalCount / 4)),
        readMs: { checkpointStats: round(statsMs), searchPage100: round(pageMs) },
      },
      null,
      2,
    ),
  );
} finally {
  await store.close();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
}

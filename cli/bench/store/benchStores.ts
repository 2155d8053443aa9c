import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createCentralStore } from '../../../broker/config.js';
import type { CentralStore } from '../../../broker/store/centralStore.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { createLogger } from '../../../protocol/logger.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';
import { benchPeople, fillEvents, syntheticEvent, type BenchTerminal, type FillOptions } from '../console/fillEvents.js';
import { scratchDatabase } from './scratchDatabase.js';

/**
 * Where `bench store` keeps its scratch store: a SQLite file in a temporary directory, or a
 * PostgreSQL database of its own on a server (created and dropped by the bench).
 */
export interface BenchStores {
  /** Opens the store, runs `work`, closes it. */
  withStore<T>(work: (store: CentralStore) => Promise<T>): Promise<T>;
  /** Stores `events` scan events spread over the span, with their rollup and sequence bookkeeping. */
  fill(options: Omit<FillOptions, 'storeFile'>): Promise<{ readonly filledMs: number }>;
  /** The store's size on disk, MB. */
  sizeMb(): Promise<number>;
  /** Removes the file or drops the database. */
  dispose(): Promise<void>;
}

const benchLogger = () => createLogger({ level: 'warn', destination: process.stderr });

/** The SQLite store in the calling thread: the bench measures how long each call holds the event loop. */
export function sqliteBenchStores(): BenchStores {
  const dir = mkdtempSync(join(tmpdir(), 'qrgate-bench-store-'));
  const file = join(dir, 'central.db');
  return {
    async withStore(work) {
      const store = new SqliteCentralStore({ file, logger: benchLogger() });
      await store.migrate();
      try {
        return await work(store);
      } finally {
        await store.close();
      }
    },
    // Straight into the file, indexes built at the end: a million rows a few seconds. The
    // fill runs with synchronous=OFF, so gigabytes of it can still be dirty in the page cache
    // when it returns; the store's first checkpoint (synchronous=NORMAL) would then fsync
    // them all inside a commit, a stall of the bench's own making (over a second at 10 M):
    // they are written out here, in the fill's time.
    async fill(options) {
      const started = performance.now();
      fillEvents({ ...options, storeFile: file });
      const syncStarted = performance.now();
      const fd = openSync(file, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      options.log(`the fill's pages written out (fsync) in ${Math.round(performance.now() - syncStarted)} ms`);
      return { filledMs: performance.now() - started };
    },
    sizeMb: async () => statSync(file).size / 2 ** 20,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Events per insertEvents call while filling PostgreSQL: one transaction of five round trips each. */
const pgFillBatch = 5000;

/**
 * The PostgreSQL store on a database of the bench's own, built by createCentralStore as a
 * central's config would build it. `serverUrl` names the server and a database its user may
 * CREATE DATABASE from.
 */
export async function postgresBenchStores(serverUrl: string): Promise<BenchStores> {
  const database = await scratchDatabase(serverUrl, 'qrgate_bench_store');
  const open = () => createCentralStore({ store: { type: 'postgres', url: database.url, schema: 'public', retentionDays: null }, dataDir: '/nonexistent' }, { logger: benchLogger() });
  const query = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const withStore = async <T>(work: (store: CentralStore) => Promise<T>): Promise<T> => {
    const store = await open();
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };
  return {
    withStore,
    // Through insertEvents, as a central stores them: the partitions, rollup, presence and
    // sequences come out as ingestion makes them. Then VACUUM ANALYZE, so plans and tables are
    // those of a live store: the fill updates each person's presence row ~500 times, and a
    // server whose autovacuum runs (the default) cleans those versions up as they come. This
    // machine's PostgreSQL runs with autovacuum off; without the VACUUM the queries timed
    // after would walk ten million dead versions no production store keeps.
    // Then a CHECKPOINT, as the SQLite fill's fsync: the VACUUM dirties every page it visits,
    // and the kernel wrote them out ~30 s later (its dirty_expire), in the middle of the
    // retention measured next. Commits then waited on their WAL sync (IO:WALSync, sampled from
    // pg_stat_activity) 180–360 ms behind that writeback (3 M events, 2026-12-05).
    async fill(options) {
      const started = performance.now();
      await withStore(async (store) => {
        const terminals: BenchTerminal[] = options.checkpoints.flatMap((code, c) =>
          Array.from({ length: options.terminalsPerCheckpoint }, (_, t) => ({ terminalId: `fill-${c}-${t}`, code, bootId: uuidv7(options.endMs - options.spanMs), seq: 0 })),
        );
        const people = benchPeople();
        // The spacing fillEvents uses: evenly over (endMs - spanMs, endMs].
        const stepMs = options.spanMs / options.events;
        const firstMs = options.endMs - options.spanMs;
        for (let from = 0; from < options.events; from += pgFillBatch) {
          const to = Math.min(options.events, from + pgFillBatch);
          const events = Array.from({ length: to - from }, (_, k) => syntheticEvent(from + k, terminals[(from + k) % terminals.length]!, Math.floor(firstMs + (from + k + 1) * stepMs), people));
          await store.insertEvents(events, options.endMs);
          if ((from / pgFillBatch) % 20 === 19) options.log(`${to} events stored in ${Math.round(performance.now() - started)} ms`);
        }
      });
      await query('VACUUM ANALYZE');
      const checkpointStarted = performance.now();
      await query('CHECKPOINT');
      options.log(`the fill's pages written out (CHECKPOINT) in ${Math.round(performance.now() - checkpointStarted)} ms`);
      return { filledMs: performance.now() - started };
    },
    sizeMb: async () => Number((await query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes'))[0]!.bytes) / 2 ** 20,
    dispose: () => database.drop(),
  };
}

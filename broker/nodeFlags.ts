/**
 * The V8 flags the central runs with:
 *
 *   NODE_OPTIONS=--max-semi-space-size=32 qrgate central --config F
 *
 * The opposite of a terminal's (gateway/nodeFlags.ts): the central allocates fast and briefly
 * (MQTT packets, parsed batches, the store's messages), and V8's default young generation
 * made it scavenge often on the thread that also runs the broker and ingestion. With 32 MB
 * semi-spaces `bench e2e --backlog` (200 terminals, 200,000 events, SQLite) stored 7 % more
 * events per second (medians of three, interleaved) for ~60 MB more resident memory; 64 MB
 * bought no more speed (docs/benchmarks.md, "The central's young generation").
 */
export const centralNodeFlags: readonly string[] = ['--max-semi-space-size=32'];

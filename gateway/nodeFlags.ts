/**
 * The V8 flags a terminal runs with on a device:
 *
 *   node --max-semi-space-size=1 dist/cli/main.js terminal --config F
 *
 * A list sync receives a 33 MB snapshot as 64 KiB MQTT payloads. With V8's default young
 * generation the buffers behind them are freed only at the next scavenge, which comes
 * rarely, and the terminal's resident memory grows by ~45 MB during a transfer. A 1 MB
 * semi-space scavenges often and briefly: measured with `bench lists` at 1,000,000
 * entries, 133 -> 86 MB during the transfer, scan latency within noise (docs/benchmarks.md).
 * V8 sizes the young generation when the isolate starts (`v8.setFlagsFromString` comes too
 * late), so it must be on the command line or in NODE_OPTIONS; the apply worker sets its
 * own limit in code (gateway/lists/listApplier.ts).
 */
export const terminalNodeFlags: readonly string[] = ['--max-semi-space-size=1'];

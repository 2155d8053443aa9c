import type { Telemetry } from '../../protocol/messages.js';
import type { TerminalClock } from '../clock.js';
import type { ListCache } from '../listCache.js';
import type { Outbox } from '../outbox.js';
import type { StorageHealth } from '../storageHealth.js';
import type { UplinkLane } from './lanes.js';

export interface TelemetrySources {
  readonly bootId: string;
  readonly clock: TerminalClock;
  readonly lists: ListCache;
  /** The terminal's own list scopes, in config order. */
  readonly scopes: readonly string[];
  readonly outbox: Outbox;
  readonly lanes: readonly UplinkLane[];
  readonly uptimeS: () => number;
  readonly clockSynced: () => boolean | null;
  /** The storage alarm; omitted from telemetry when absent. */
  readonly storage?: StorageHealth;
}

/** One heartbeat (protocol/messages.ts telemetrySchema). `inFlight` counts events, not batches. */
export function buildTelemetry(sources: TelemetrySources, inFlight: number): Telemetry {
  const now = sources.clock.now();
  const installed = sources.lists.installed();
  return {
    v: 1,
    bootId: sources.bootId,
    at: new Date(now.ms).toISOString(),
    uptimeS: Math.round(sources.uptimeS() * 1000) / 1000,
    outboxDepth: sources.outbox.depth(),
    inFlight,
    lists: sources.scopes.map((scope) => {
      const list = installed.get(scope);
      if (!list) return { scope, version: null, ageS: null, expiresAt: null, stale: false };
      return {
        scope,
        version: list.version,
        ageS: Math.max(0, Math.round((now.ms - list.issuedAtMs) / 1000)),
        expiresAt: new Date(list.expiresAtMs).toISOString(),
        // the same test the scan path applies (gateway/lane.ts listState)
        stale: now.ms >= list.expiresAtMs,
      };
    }),
    scanners: sources.lanes.map((lane) => ({ lane: lane.name, connected: lane.scannerConnected() })),
    clockTrusted: now.trusted,
    clockSynced: sources.clockSynced(),
    ...(sources.storage ? { storage: sources.storage.telemetry() } : {}),
  };
}

import type { HistogramBucket } from './centralStore.js';

/** Stores keep integer milliseconds; the interface speaks ISO 8601 UTC. */
export function msToIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function msToIsoOrNull(ms: number | null): string | null {
  return ms === null ? null : msToIso(ms);
}

const hourMs = 3_600_000;
/** Asia/Ho_Chi_Minh is UTC+7 all year (no DST): its day starts at 17:00 UTC. */
export const localOffsetMs = 7 * hourMs;
export const bucketMs: Readonly<Record<HistogramBucket, number>> = { hour: hourMs, day: 24 * hourMs };

/** The start of the histogram bucket holding `ms`: the same arithmetic as the SQL that groups them. */
export function bucketStart(ms: number, bucket: HistogramBucket): number {
  const width = bucketMs[bucket];
  return Math.floor((ms + localOffsetMs) / width) * width - localOffsetMs;
}

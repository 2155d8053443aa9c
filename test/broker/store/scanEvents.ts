import { randomUUID } from 'node:crypto';
import { dammCheckDigit } from '../../../protocol/checkpointCode.js';
import { scanEventSchema, type Decision, type Direction, type Reason, type ScanEvent } from '../../../protocol/event.js';
import type { Telemetry } from '../../../protocol/messages.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';

/** Fixtures shared by the store contract, the API tests and the insert benchmark. */

export function checkpointCode(body13: string): string {
  return body13 + String(dammCheckDigit(body13));
}

export const CP_A = checkpointCode('1000000000000');
export const CP_B = checkpointCode('1000000000001');
export const CP_C = checkpointCode('1000000000002');

const reasonFor: Record<Decision, Reason> = { granted: 'allowed', refused: 'unknown', duplicate: 'debounce' };
const bootIds = new Map<string, string>();

export interface EventSpec {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly seq: number;
  readonly tsMs: number;
  readonly decision?: Decision;
  readonly direction?: Direction;
  /** Force an id; default a fresh UUIDv7 at tsMs. */
  readonly id?: string;
}

/** A realistic event (it passes scanEventSchema, checked unless `validate` is false). */
export function scanEvent(spec: EventSpec, validate = true): ScanEvent {
  let bootId = bootIds.get(spec.terminalId);
  if (bootId === undefined) bootIds.set(spec.terminalId, (bootId = randomUUID()));
  const decision = spec.decision ?? 'granted';
  const event: ScanEvent = {
    id: spec.id ?? uuidv7(spec.tsMs),
    terminalId: spec.terminalId,
    checkpointCode: spec.checkpointCode,
    lane: spec.direction ?? 'in',
    direction: spec.direction ?? 'in',
    seq: spec.seq,
    bootId,
    ts: new Date(spec.tsMs).toISOString(),
    clockTrusted: true,
    credentialType: 'cccd',
    credentialRef: 'ab'.repeat(32),
    listVersion: 7,
    decision,
    reason: reasonFor[decision],
    passback: false,
    passed: decision === 'granted' ? true : null,
    latencyMs: 41.5,
  };
  return validate ? scanEventSchema.parse(event) : event;
}

/** Events seq `from`..`to` of one terminal, one second apart from `startMs`. */
export function eventRun(terminalId: string, code: string, fromSeq: number, toSeq: number, startMs: number): ScanEvent[] {
  const events: ScanEvent[] = [];
  for (let seq = fromSeq; seq <= toSeq; seq++) events.push(scanEvent({ terminalId, checkpointCode: code, seq, tsMs: startMs + seq * 1000 }));
  return events;
}

export function telemetry(bootId: string, atMs: number, outboxDepth = 0): Telemetry {
  return {
    v: 1,
    bootId,
    at: new Date(atMs).toISOString(),
    uptimeS: 3600,
    outboxDepth,
    inFlight: 0,
    lists: [{ scope: 'site-a', version: 7, ageS: 120, expiresAt: new Date(atMs + 86_400_000).toISOString(), stale: false }],
    scanners: [{ lane: 'in', connected: true }],
    clockTrusted: true,
    clockSynced: true,
  };
}

/** A tiny deterministic PRNG (LCG), so shuffles and batch sizes are the same on every run. */
export function seededRandom(seed: number): (max: number) => number {
  let state = seed >>> 0;
  return (max) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % max;
  };
}

export function shuffled<T>(items: readonly T[], random: (max: number) => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** Splits into consecutive batches of 1..maxSize items. */
export function batches<T>(items: readonly T[], maxSize: number, random: (max: number) => number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = 1 + random(maxSize);
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

import { randomUUID } from 'node:crypto';
import type { ScanEvent } from '../../../protocol/event.js';
import type { CommandAck, PendingHeld, Telemetry, TerminalStatus } from '../../../protocol/messages.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';

/** Valid payloads as a terminal would publish them. */

export interface TerminalIdentity {
  readonly terminalId: string;
  readonly checkpointCode: string;
}

export function scanEvents(who: TerminalIdentity, count: number, firstSeq = 1, bootId: string = randomUUID()): ScanEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: uuidv7(),
    terminalId: who.terminalId,
    checkpointCode: who.checkpointCode,
    lane: 'in',
    direction: 'in' as const,
    seq: firstSeq + i,
    bootId,
    ts: new Date().toISOString(),
    clockTrusted: true,
    credentialType: 'cccd' as const,
    credentialRef: 'a'.repeat(64),
    listVersion: 1,
    decision: 'granted' as const,
    reason: 'allowed' as const,
    passback: false,
    passed: null,
    latencyMs: 12.5,
  }));
}

export function batch(events: readonly ScanEvent[]): string {
  return JSON.stringify({ v: 1, events });
}

export function status(state: 'online' | 'offline', bootId: string = randomUUID()): string {
  const value: TerminalStatus = { v: 1, state, bootId, at: new Date().toISOString() };
  return JSON.stringify(value);
}

export function telemetry(bootId: string = randomUUID()): string {
  const value: Telemetry = {
    v: 1,
    bootId,
    at: new Date().toISOString(),
    uptimeS: 12,
    outboxDepth: 0,
    inFlight: 0,
    lists: [{ scope: 'default', version: 1, ageS: 60, expiresAt: new Date(Date.now() + 86_400_000).toISOString(), stale: false }],
    scanners: [{ lane: 'in', connected: true }],
    clockTrusted: true,
    clockSynced: null,
  };
  return JSON.stringify(value);
}

/** A `…/pending` message: a scan held for the operator at lane `in` for 15 s from now. */
export function pendingHeld(overrides: Partial<PendingHeld> = {}): string {
  const atMs = Date.now();
  const message: PendingHeld = {
    v: 1,
    state: 'pending',
    id: uuidv7(atMs),
    lane: 'in',
    direction: 'in',
    at: new Date(atMs).toISOString(),
    expiresAt: new Date(atMs + 15_000).toISOString(),
    credentialType: 'cccd',
    credentialRef: 'ab'.repeat(32),
    listVersion: 3,
    ...overrides,
  };
  return JSON.stringify(message);
}

/** A `…/cmd-acks` message: an `open` the terminal ran, by default one no central queued. */
export function commandAck(overrides: Partial<Extract<CommandAck, { outcome: 'executed' }>> = {}): string {
  const ack: CommandAck = { v: 1, id: randomUUID(), name: 'open', outcome: 'executed', at: new Date().toISOString(), ...overrides };
  return JSON.stringify(ack);
}

import type { EventBatch, TerminalStatus } from '../../protocol/messages.js';
import type { PendingEvent } from '../outbox.js';

/** `…/status` payload: retained, and the `offline` one is also the will. */
export function statusPayload(state: TerminalStatus['state'], bootId: string, atMs: number): string {
  const status: TerminalStatus = { v: 1, state, bootId, at: new Date(atMs).toISOString() };
  return JSON.stringify(status);
}

/** `…/events` payload (protocol/messages.ts eventBatchSchema). */
export function batchPayload(rows: readonly PendingEvent[]): string {
  const batch: EventBatch = { v: 1, events: rows.map((row) => row.event) };
  return JSON.stringify(batch);
}

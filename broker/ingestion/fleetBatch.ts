import type { CentralStore } from '../store/centralStore.js';
import type { FleetUpdate } from '../store/fleetUpdates.js';

/**
 * Connects and statuses queued in one turn of the event loop go to the store in one call at
 * the end of it (`setImmediate`, after the turn's socket reads): a restarted central's
 * logins each write a connect and a status, and one message each to the store's worker
 * thread was a share of its CPU per login (docs/benchmarks.md, "Reconnect storm"). Every
 * update is sent, in the order queued; each caller's promise settles with the call that
 * carried its update.
 */
export class FleetBatch {
  private queued: FleetUpdate[] = [];
  private sent: Promise<void> | null = null;

  constructor(private readonly store: Pick<CentralStore, 'recordFleet'>) {}

  add(update: FleetUpdate): Promise<void> {
    this.queued.push(update);
    this.sent ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const updates = this.queued;
      this.queued = [];
      this.sent = null;
      return this.store.recordFleet(updates);
    });
    return this.sent;
  }
}

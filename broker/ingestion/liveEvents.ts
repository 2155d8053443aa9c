import type { ScanEvent } from '../../protocol/event.js';
import type { Logger } from '../../protocol/logger.js';

/** An event as the store holds it, with when the central received it (as `/api/events` shows it). */
export type StoredEvent = ScanEvent & { readonly receivedAt: string };

export type StoredEventsListener = (events: readonly StoredEvent[]) => void;

/**
 * Newly stored scan events, in-process, for whoever watches them live (`GET
 * /api/events/live`). Ingestion publishes each group right after its commit is durable,
 * so a watcher never sees an event the store might still lose. Publishing is synchronous
 * and never fails: a listener's error is logged and kept away from ingestion, and a
 * listener must hand slow work off (the live route queues it per batch).
 */
export class LiveEvents {
  private readonly listeners = new Set<StoredEventsListener>();

  constructor(private readonly logger?: Logger) {}

  /** Returns the unsubscribe; calling it twice is harmless. */
  subscribe(listener: StoredEventsListener): () => void {
    // A wrapper per call, so the same function subscribed twice is two subscriptions.
    const entry: StoredEventsListener = (events) => listener(events);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  publish(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (err) {
        this.logger?.error({ err }, 'live-events.listener-failed');
      }
    }
  }
}

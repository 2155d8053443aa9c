import type { PendingHeld, PendingMessage, PendingResolved } from '../protocol/messages.js';

/**
 * The scans held for an operator right now, across the terminal's lanes, and a listener
 * told of each change (the uplink, which tells the central's guard screen: protocol/messages.ts
 * pendingMessageSchema). In memory only: a pending scan is never decided and never recorded
 * until its button, its timeout or a central's answer; a restart forgets it, as the lane does.
 *
 * Lanes report on their scan path, so reporting only takes note: the listener must defer any
 * IO, and its failure never reaches the lane.
 */
export class PendingBoard {
  private readonly held = new Map<string, PendingHeld>();
  private readonly listeners = new Set<(message: PendingMessage) => void>();

  hold(message: PendingHeld): void {
    this.held.set(message.id, message);
    this.notify(message);
  }

  /** A scan's end, whoever decided it; ignored for a scan never held (nothing to tell). */
  resolve(message: PendingResolved): void {
    if (!this.held.delete(message.id)) return;
    this.notify(message);
  }

  /** What is pending now, oldest first: sent again on every connect. */
  current(): PendingHeld[] {
    return [...this.held.values()];
  }

  onChange(listener: (message: PendingMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(message: PendingMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (err) {
        // The gate decided already; telling the central is best effort (STYLE.md habit 7).
        process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'QRGATE_PENDING_LISTENER' });
      }
    }
  }
}

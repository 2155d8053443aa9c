import type { Duplex } from 'node:stream';
import { AckOrder } from '../mqtt/ackOrder.js';

/**
 * The standalone worker's own PUBACKs (mqttWorker.ts), written once a message is stored.
 * mqtt.js offers no way to acknowledge a QoS 1 message later in MQTT 3.1.1 without holding
 * back every message behind it (see mqttWorker.ts), so the worker writes the 4 bytes itself:
 * MQTT 3.1.1 §3.4, fixed header 0x40 with remaining length 2, then the packet identifier
 * big-endian. They go out in the order the PUBLISHes arrived, whatever order the commits
 * finish in [MQTT-4.6.0-2] (the same AckOrder the central uses), on the connection the
 * message came on: a message whose connection has gone is not acknowledged at all, and the
 * broker re-sends it on the next one [MQTT-4.4.0-1].
 */

export function pubackPacket(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, (messageId >> 8) & 0xff, messageId & 0xff]);
}

export class DeferredAcks {
  private readonly order = new AckOrder<Duplex>();
  /** Releases not yet run, so a stop can wait until every PUBACK due is written. */
  private readonly pending = new Set<Promise<void>>();

  /**
   * Writes `messageId`'s PUBACK on `stream` once `stored` resolves and every earlier
   * message on that stream has been released; if `stored` rejects, writes nothing and calls
   * `onFailure` (in the same order).
   */
  enqueue(stream: Duplex, messageId: number, stored: Promise<void>, onFailure: (err: Error) => void): void {
    const verdict = stored.then(() => null);
    const released = new Promise<void>((resolve) => {
      this.order.enqueue(stream, verdict, (error) => {
        try {
          if (error) onFailure(error);
          else if (!stream.destroyed && stream.writable) stream.write(pubackPacket(messageId));
        } finally {
          resolve();
        }
      });
    });
    this.pending.add(released);
    void released.then(() => this.pending.delete(released));
  }

  /** Resolves once every PUBACK enqueued so far has been written (or given up on). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

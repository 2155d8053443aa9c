import type { SyncLink } from '../../gateway/listSync/listSync.js';

/**
 * The part of an MQTT broker the list sync relies on: retained messages, delivered on
 * SUBSCRIBE (again on a re-SUBSCRIBE), asynchronously like a socket would. Records what was
 * asked for, so tests can see a resumed transfer skip what it already had.
 */
export class RetainedBroker {
  readonly retained = new Map<string, Buffer>();
  readonly subscribed: string[] = [];
  private deliver: ((topic: string, payload: Buffer) => void) | null = null;
  private connected = false;

  publish(messages: ReadonlyMap<string, Buffer>): void {
    for (const [topic, payload] of messages) this.retained.set(topic, payload);
  }

  /** A connection whose messages go to `deliver`; the previous one stops receiving. */
  connect(deliver: (topic: string, payload: Buffer) => void): SyncLink {
    this.deliver = deliver;
    this.connected = true;
    const mine = deliver;
    return {
      subscribe: (topics) => {
        for (const topic of topics) {
          this.subscribed.push(topic);
          const payload = this.retained.get(topic);
          if (payload !== undefined) setImmediate(() => this.connected && this.deliver === mine && mine(topic, payload));
        }
      },
      unsubscribe: () => undefined,
    };
  }

  disconnect(): void {
    this.connected = false;
    this.deliver = null;
  }

  subscribedTo(prefix: string): string[] {
    return this.subscribed.filter((topic) => topic.startsWith(prefix));
  }
}

import { Readable } from 'node:stream';
import AsyncMemoryPersistence, { type RetainedPacket } from 'aedes-persistence/asyncPersistence.js';
import { RetainedTopicTree } from './retainedTopicTree.js';

/**
 * aedes's default in-memory persistence with its retained messages held in a topic tree
 * (retainedTopicTree.ts) instead of one Map walked in full at every SUBSCRIBE. Everything
 * else (subscriptions, wills, in-flight packets) is aedes-persistence's own, unchanged.
 *
 * aedes 1.x calls a persistence's async methods directly (aedes docs/Aedes.md,
 * `persistence`), so this is handed to `Aedes.createBroker` as is.
 */
export class RetainedIndexPersistence extends AsyncMemoryPersistence {
  private readonly retained = new RetainedTopicTree<RetainedPacket>();

  /** An empty payload removes the topic's retained message [MQTT-3.3.1-10]; a copy is kept, as the base store does. */
  override async storeRetained(packet: RetainedPacket): Promise<void> {
    if (packet.payload.length === 0) this.retained.delete(packet.topic);
    else this.retained.set(packet.topic, { ...packet });
  }

  override createRetainedStream(pattern: string): Readable {
    return Readable.from(this.retained.match(pattern));
  }

  /** One pattern after the other, as the base store answers: a topic two filters match comes twice. */
  override createRetainedStreamCombi(patterns: readonly string[]): Readable {
    const retained = this.retained;
    return Readable.from(
      (function* () {
        for (const pattern of patterns) yield* retained.match(pattern);
      })(),
    );
  }
}

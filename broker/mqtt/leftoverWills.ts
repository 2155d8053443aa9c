import { promisify } from 'node:util';
import type { Aedes, PublishPacket } from 'aedes';
import type { Logger } from '../../protocol/logger.js';

interface StoredWill extends PublishPacket {
  readonly clientId: string;
  readonly brokerId: string;
}

interface WillStore {
  streamWill(brokers?: Record<string, number>): AsyncIterable<StoredWill>;
  delWill(client: { id: string; brokerId: string }): Promise<unknown>;
}

/**
 * The wills a node left in Redis when it died, published and deleted as it starts again.
 * aedes deletes a will only through the node that stored it (`delWill` keys it by the
 * current node's id), and sweeps a dead node's wills only while that node stays silent for
 * 3 heartbeats: a node SIGKILLed and back under the same `nodeId` sooner is alive again, so
 * the wills of the terminals it held before were never published and never deleted (one
 * `will:{node}:{client}` key each, measured in test/chaos/cluster.test.ts). A node that
 * starts holds no client yet, so every will under its id is from its previous life: it is
 * what aedes would have published had the node stayed down (a terminal that moved meanwhile
 * has its `offline` dropped as outdated by the holders hash, terminalHolders.ts).
 */
export async function publishLeftoverWills(aedes: Aedes, persistence: unknown, nodeId: string, logger: Logger): Promise<number> {
  const store = persistence as WillStore;
  const authorize = promisify(aedes.authorizePublish).bind(aedes) as unknown as (client: null, packet: PublishPacket) => Promise<void>;
  const publish = promisify(aedes.publish).bind(aedes) as unknown as (packet: PublishPacket) => Promise<void>;
  const own: StoredWill[] = [];
  for await (const will of store.streamWill({})) if (will.brokerId === nodeId) own.push(will);
  for (const will of own) {
    try {
      await authorize(null, will);
      await publish(will);
    } catch {
      // refused (a removed terminal): deleted all the same
    }
    await store.delWill({ id: will.clientId, brokerId: will.brokerId });
  }
  if (own.length > 0) logger.info({ wills: own.length }, 'cluster.leftover-wills');
  return own.length;
}

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterSchema } from '../../../broker/config.js';
import { libraryCodec } from '../../../broker/mqtt/redisRetainedIndex.js';
import { statusPayload } from '../../../gateway/uplink/payloads.js';
import { terminalTopic } from '../../../protocol/topics.js';
import { testRedisUrl, useRedisPrefix } from '../../helpers/redis.js';
import { TestCentralStore } from '../../helpers/sqliteStore.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { useClusterNodes } from '../mqtt/brokerHarness.js';

/**
 * A node SIGKILLed and back under the same nodeId before the others declared it dead left
 * the wills of the terminals it held in Redis, where aedes never deletes them: the node
 * publishes and deletes them as it starts (broker/mqtt/leftoverWills.ts).
 */
describe("a cluster node's wills from before its restart", () => {
  const tempDir = useTempDir('qrgate-cluster-wills-');
  const redisPrefix = useRedisPrefix();
  const startNode = useClusterNodes();
  const open: Redis[] = [];
  afterEach(() => {
    for (const conn of open.splice(0)) conn.disconnect();
  });

  it('publishes and deletes its own leftover wills, and leaves another node\'s alone', async () => {
    const keyPrefix = redisPrefix();
    const redis = new Redis(testRedisUrl, { keyPrefix, maxRetriesPerRequest: 1 });
    open.push(redis);
    const will = async (brokerId: string, clientId: string) => {
      const key = `will:${brokerId}:${encodeURIComponent(clientId)}`;
      const topic = terminalTopic('CP1', clientId, 'status');
      await redis.rpush('will', key);
      await redis.set(key, libraryCodec.encode({ cmd: 'publish', topic, payload: Buffer.from(statusPayload('offline', randomUUID(), Date.now())), qos: 1, retain: true, clientId, brokerId }));
      return key;
    };
    const mine = await will('node-a', 'gate-1');
    const theirs = await will('node-b', 'gate-2');

    const store = new TestCentralStore(join(tempDir(), 'central.db'));
    const a = await startNode(clusterSchema.parse({ redisUrl: testRedisUrl, nodeId: 'node-a', keyPrefix }), store);

    expect(await redis.exists(mine)).toBe(0);
    expect(await redis.lrange('will', 0, -1)).toEqual([theirs]);
    expect(a.log.messages('cluster.leftover-wills')).toHaveLength(1);
    // Published as aedes would have: the retained status is there for the next subscriber.
    expect(await redis.hexists('retained', terminalTopic('CP1', 'gate-1', 'status'))).toBe(1);
  });
});

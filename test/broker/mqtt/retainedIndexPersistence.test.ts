import type { Readable } from 'node:stream';
import AsyncMemoryPersistence, { type RetainedPacket } from 'aedes-persistence/asyncPersistence.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RetainedIndexPersistence } from '../../../broker/mqtt/retainedIndexPersistence.js';
import { RetainedTopicTree } from '../../../broker/mqtt/retainedTopicTree.js';
import { propertyRuns } from '../../helpers/propertyRuns.js';

/**
 * The indexed retained store answers every SUBSCRIBE exactly as aedes-persistence's own
 * in-memory store does (the oracle: the store it replaces), for any sequence of retained
 * publishes and removals and any filter, wildcards included. fast-check, 500 cases.
 */

async function topicsOf(stream: Readable): Promise<string[]> {
  const topics: string[] = [];
  for await (const packet of stream) topics.push((packet as RetainedPacket).topic);
  return topics.sort();
}

function retained(topic: string, payload: string): RetainedPacket {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true };
}

// Few level names, so topics share branches and filters hit them; '' and '$SYS' are legal levels.
const level = fc.constantFrom('a', 'b', 'status', '', '$SYS');
const topic = fc.array(level, { minLength: 1, maxLength: 4 }).map((levels) => levels.join('/'));
const filter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant('+')), { minLength: 0, maxLength: 4 }), fc.boolean())
  .filter(([levels, hash]) => levels.length > 0 || hash)
  .map(([levels, hash]) => [...levels, ...(hash ? ['#'] : [])].join('/'));
// An empty payload removes the topic's retained message [MQTT-3.3.1-10].
const operation = fc.record({ topic, payload: fc.constantFrom('', 'on', 'off') });

describe('RetainedIndexPersistence', () => {
  it('finds the same retained messages as aedes-persistence for any publishes and filters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 30 }), fc.array(filter, { minLength: 1, maxLength: 3 }), async (operations, filters) => {
        const oracle = new AsyncMemoryPersistence();
        const indexed = new RetainedIndexPersistence();
        for (const { topic, payload } of operations) {
          await oracle.storeRetained(retained(topic, payload));
          await indexed.storeRetained(retained(topic, payload));
        }
        expect(await topicsOf(indexed.createRetainedStreamCombi(filters))).toEqual(await topicsOf(oracle.createRetainedStreamCombi(filters)));
        for (const one of filters) expect(await topicsOf(indexed.createRetainedStream(one))).toEqual(await topicsOf(oracle.createRetainedStream(one)));
      }),
      { numRuns: propertyRuns(500) },
    );
  });

  it('keeps its own copy of a stored packet, and the last one stored per topic', async () => {
    const indexed = new RetainedIndexPersistence();
    const packet = retained('cp/1/t/a/status', 'online');
    await indexed.storeRetained(packet);
    await indexed.storeRetained(retained('cp/1/t/a/status', 'offline'));
    (packet as { payload: Buffer }).payload = Buffer.from('changed');
    const found: RetainedPacket[] = [];
    for await (const each of indexed.createRetainedStream('cp/+/t/+/status')) found.push(each as RetainedPacket);
    expect(found.map((each) => each.payload.toString())).toEqual(['offline']);
  });
});

describe('RetainedTopicTree', () => {
  it('prunes a removed topic branch and counts what it holds', () => {
    const tree = new RetainedTopicTree<string>();
    tree.set('cp/1/t/a/status', 'a');
    tree.set('cp/1/t/b/status', 'b');
    tree.delete('cp/1/t/a/status');
    tree.delete('cp/1/t/a/status');
    tree.delete('cp/1/t/zz/status');
    expect(tree.size).toBe(1);
    expect([...tree.match('cp/1/t/+/status')]).toEqual(['b']);
    expect([...tree.match('cp/1/t/a/#')]).toEqual([]);
    tree.delete('cp/1/t/b/status');
    expect(tree.size).toBe(0);
    expect([...tree.match('#')]).toEqual([]);
  });

  it("visits only a filter's own branch: a command subscription does not walk the fleet's statuses", () => {
    const tree = new RetainedTopicTree<string>();
    for (let i = 0; i < 10_000; i++) tree.set(`qrgate/v1/cp/10000000000008/t/t${i}/status`, `s${i}`);
    const visited = countingLookups(tree, 'qrgate/v1/cp/10000000000008/t/t42/cmd/#');
    expect(visited.values).toEqual([]);
    expect(visited.childLookups).toBeLessThan(10);
  });
});

/** Counts the child lookups a match makes, by watching Map.get on the tree's nodes. */
function countingLookups(tree: RetainedTopicTree<string>, filter: string): { values: string[]; childLookups: number } {
  let childLookups = 0;
  const get = Map.prototype.get;
  Map.prototype.get = function (this: Map<unknown, unknown>, key: unknown) {
    childLookups++;
    return get.call(this, key);
  };
  try {
    return { values: [...tree.match(filter)], childLookups };
  } finally {
    Map.prototype.get = get;
  }
}

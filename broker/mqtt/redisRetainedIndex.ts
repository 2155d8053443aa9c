import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { RetainedPacket } from 'aedes-persistence/asyncPersistence.js';
import { RetainedTopicTree } from './retainedTopicTree.js';

/**
 * Retained messages in Redis, found by a SUBSCRIBE's fixed prefix instead of a walk over all
 * of them. aedes-persistence-redis 11 answers a wildcard filter with an HSCAN of its whole
 * `retained` hash, 10 fields a round trip (`singleMatchRetained` in asyncPersistence.js): at
 * 10,000 retained statuses each terminal's `…/cmd/#` at login cost ~1,000 round trips and
 * 15 ms (docs/scale-out.md, "Measured"), a fleet's reconnect storm millions of Redis calls.
 *
 * The values stay where and as the library keeps them (the `retained` hash, topic → msgpack
 * of the packet, so exact filters and a node on the library's own code read the same data);
 * beside it a sorted set holds every retained topic, all at score 0, which Redis orders by
 * bytes. The topics under a filter's fixed levels are then one ZRANGEBYLEX, O(log N + M),
 * and only those are read (HMGET) and matched. Both are written in one MULTI, so no node
 * sees a value the index misses.
 */

/** The library's own key and codec: what it wrote, we read, and the other way round. */
const valuesKey = 'retained';
const topicsKey = 'retained-topics';
const fetchBatch = 500;
/** Above every byte UTF-8 uses: `[p/` to `[p/\xff` is every topic under `p/`. */
const afterEveryTopic = Buffer.from([0xff]);

interface Codec {
  encode(value: unknown): Buffer;
  decode(bytes: Buffer): RetainedPacket;
}
// Resolved from the library's folder: the codec its hash is written in, not a copy of ours.
export const libraryCodec = createRequire(createRequire(import.meta.url).resolve('aedes-persistence-redis'))('msgpack-lite') as Codec;

/**
 * The levels of a filter before its first wildcard, joined again; null for a filter without
 * wildcards (a topic), '' when the first level is one.
 */
export function fixedPrefix(filter: string): string | null {
  const levels = filter.split('/');
  const wildcard = levels.findIndex((level) => level === '+' || level === '#');
  if (wildcard === -1) return null;
  return levels.slice(0, wildcard).join('/');
}

export class RedisRetainedIndex {
  constructor(private readonly db: Redis) {}

  /** An empty payload removes the topic's retained message [MQTT-3.3.1-10]. */
  async store(packet: RetainedPacket): Promise<void> {
    const multi = this.db.multi();
    if (packet.payload.length === 0) multi.hdel(valuesKey, packet.topic).zrem(topicsKey, packet.topic);
    else multi.hset(valuesKey, packet.topic, libraryCodec.encode(packet)).zadd(topicsKey, 0, packet.topic);
    for (const [err] of (await multi.exec()) ?? []) if (err) throw err;
  }

  /**
   * Adds to the index every topic of the hash it lacks: retained messages stored before the
   * index existed (or by a node on the library's own code). Topics the hash no longer holds
   * are dropped when a read meets them. Idempotent; nodes starting together do it twice.
   */
  async rebuild(): Promise<number> {
    const [indexed, stored] = await Promise.all([this.db.zcard(topicsKey), this.db.hlen(valuesKey)]);
    if (indexed === stored) return 0;
    let added = 0;
    for await (const page of this.db.hscanStream(valuesKey, { count: 1000 }) as AsyncIterable<string[]>) {
      const topics = page.filter((_, i) => i % 2 === 0);
      if (topics.length === 0) continue;
      added += await this.db.zadd(topicsKey, ...topics.flatMap((topic) => [0, topic]));
    }
    return added;
  }

  /**
   * The retained messages of a SUBSCRIBE's filters, each topic once, topics first (as the
   * library answers). Matching is RetainedTopicTree's, which is qlobber's as aedes configures it.
   */
  async *match(patterns: readonly string[]): AsyncGenerator<RetainedPacket> {
    const exact: string[] = [];
    const prefixes = new Set<string>();
    const wildcards: string[] = [];
    for (const pattern of patterns) {
      const prefix = fixedPrefix(pattern);
      if (prefix === null) exact.push(pattern);
      else {
        prefixes.add(prefix);
        wildcards.push(pattern);
      }
    }
    const sent = new Set<string>();
    for await (const packet of this.read([...new Set(exact)], false)) {
      sent.add(packet.topic);
      yield packet;
    }
    if (wildcards.length === 0) return;
    const candidates = new RetainedTopicTree<string>();
    for (const topic of await this.topicsUnder(prefixes)) if (!sent.has(topic)) candidates.set(topic, topic);
    const matched = new Set<string>();
    for (const pattern of wildcards) for (const topic of candidates.match(pattern)) matched.add(topic);
    yield* this.read([...matched], true);
  }

  private async topicsUnder(prefixes: ReadonlySet<string>): Promise<string[]> {
    // '' (a filter starting with a wildcard) is the whole index: one range still, not a scan.
    if (prefixes.has('')) return this.db.zrangebylex(topicsKey, '-', '+');
    const pipeline = this.db.pipeline();
    for (const prefix of prefixes) {
      pipeline.zrangebylex(topicsKey, `[${prefix}`, `[${prefix}`); // `p/#` matches `p` itself [MQTT-4.7.1-2]
      pipeline.zrangebylex(topicsKey, `[${prefix}/`, Buffer.concat([Buffer.from(`[${prefix}/`), afterEveryTopic]));
    }
    const topics = new Set<string>();
    for (const [err, found] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      for (const topic of found as string[]) topics.add(topic);
    }
    return [...topics];
  }

  /** `indexed`: the topics came from the index, so one without a value is a stale entry. */
  private async *read(topics: readonly string[], indexed: boolean): AsyncGenerator<RetainedPacket> {
    for (let start = 0; start < topics.length; start += fetchBatch) {
      const batch = topics.slice(start, start + fetchBatch);
      const values = await this.db.hmgetBuffer(valuesKey, ...batch);
      const gone: string[] = [];
      for (let i = 0; i < batch.length; i++) {
        const value = values[i];
        if (value) yield libraryCodec.decode(value);
        else if (indexed) gone.push(batch[i]!);
      }
      // A topic removed while the index was rebuilt; a removal never leaves one otherwise.
      if (gone.length > 0) await this.db.zrem(topicsKey, ...gone);
    }
  }
}

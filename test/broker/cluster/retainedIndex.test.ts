import { Redis } from 'ioredis';
import AsyncRedisPersistence from 'aedes-persistence-redis/asyncPersistence.js';
import type { RetainedPacket } from 'aedes-persistence/asyncPersistence.js';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisRetainedIndex, fixedPrefix } from '../../../broker/mqtt/redisRetainedIndex.js';
import { testRedisUrl, useRedisPrefix } from '../../helpers/redis.js';

/**
 * The cluster's retained messages (broker/mqtt/redisRetainedIndex.ts) answer a SUBSCRIBE as
 * aedes-persistence-redis did, from the same hash, without walking every retained topic.
 */
describe('retained messages indexed by fixed prefix in Redis', () => {
  const redisPrefix = useRedisPrefix();
  const open: Redis[] = [];
  afterEach(() => {
    for (const conn of open.splice(0)) conn.disconnect();
  });
  function connect(keyPrefix: string): Redis {
    const conn = new Redis(testRedisUrl, { keyPrefix, maxRetriesPerRequest: 1 });
    open.push(conn);
    return conn;
  }
  const packet = (topic: string, payload = topic): RetainedPacket => ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true });
  async function topics(index: RedisRetainedIndex, patterns: string[]): Promise<string[]> {
    const found: string[] = [];
    for await (const p of index.match(patterns)) found.push(`${p.topic}=${p.payload.toString()}`);
    return found;
  }

  it('knows the fixed levels of a filter', () => {
    expect(fixedPrefix('a/b/cmd/#')).toBe('a/b/cmd');
    expect(fixedPrefix('a/+/c')).toBe('a');
    expect(fixedPrefix('#')).toBe('');
    expect(fixedPrefix('a//+')).toBe('a/');
    expect(fixedPrefix('a/b')).toBeNull();
  });

  it('matches like MQTT: # includes the parent, + one level, topics before wildcards, each once', async () => {
    const index = new RedisRetainedIndex(connect(redisPrefix()));
    for (const t of ['a/b', 'a/b/c', 'a/b/c/d', 'a/bc', 'a/b-x/c', 'a/x/c', 'z/b']) await index.store(packet(t));
    expect((await topics(index, ['a/b/#'])).sort()).toEqual(['a/b/c/d=a/b/c/d', 'a/b/c=a/b/c', 'a/b=a/b']);
    expect((await topics(index, ['a/+/c'])).sort()).toEqual(['a/b-x/c=a/b-x/c', 'a/b/c=a/b/c', 'a/x/c=a/x/c']);
    expect(await topics(index, ['a/b/c', 'a/b/+'])).toEqual(['a/b/c=a/b/c']);
    expect((await topics(index, ['+/b'])).sort()).toEqual(['a/b=a/b', 'z/b=z/b']);
    expect(await topics(index, ['a/nothing/#', 'a/none'])).toEqual([]);
  });

  it('replaces a retained message and removes it on an empty payload, from the index too', async () => {
    const keyPrefix = redisPrefix();
    const conn = connect(keyPrefix);
    const index = new RedisRetainedIndex(conn);
    await index.store(packet('s/1', 'online'));
    await index.store(packet('s/1', 'offline'));
    expect(await topics(index, ['s/#'])).toEqual(['s/1=offline']);
    await index.store(packet('s/1', ''));
    expect(await topics(index, ['s/#'])).toEqual([]);
    expect(await conn.zcard('retained-topics')).toBe(0);
    expect(await conn.hlen('retained')).toBe(0);
  });

  it('indexes what the library stored before it, and reads the library codec both ways', async () => {
    const keyPrefix = redisPrefix();
    const library = new AsyncRedisPersistence({ conn: connect(keyPrefix) });
    await library.storeRetained(packet('old/1', 'from the library'));
    const index = new RedisRetainedIndex(connect(keyPrefix));
    expect(await topics(index, ['old/#'])).toEqual([]);
    expect(await index.rebuild()).toBe(1);
    expect(await index.rebuild()).toBe(0);
    expect(await topics(index, ['old/#'])).toEqual(['old/1=from the library']);
    await index.store(packet('new/1', 'from the index'));
    const fromLibrary: string[] = [];
    for await (const p of library.createRetainedStream('new/#') as AsyncIterable<RetainedPacket>) fromLibrary.push(p.payload.toString());
    expect(fromLibrary).toEqual(['from the index']);
  });

  it('drops an index entry whose message is gone when a read meets it', async () => {
    const keyPrefix = redisPrefix();
    const conn = connect(keyPrefix);
    const index = new RedisRetainedIndex(conn);
    await index.store(packet('g/1'));
    await conn.hdel('retained', 'g/1');
    expect(await topics(index, ['g/+'])).toEqual([]);
    expect(await conn.zcard('retained-topics')).toBe(0);
  });
});

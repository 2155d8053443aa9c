// aedes-persistence-redis ships no typings. aedes 1.x takes an async persistence directly
// (its main export wraps one in the callback API for older brokers), so the class in
// asyncPersistence.js is what redisBackplane.ts builds. Only what it uses.
declare module 'aedes-persistence-redis/asyncPersistence.js' {
  import type { Redis } from 'ioredis';

  export interface AsyncRedisPersistenceOptions {
    /** An ioredis connection of our own (key prefix, TLS, password); destroy() disconnects it. */
    readonly conn: Redis;
    /** Offline QoS 1 messages delivered on CONNECT; terminals use clean sessions, so none wait. */
    readonly maxSessionDelivery?: number;
    /** Seconds an offline packet is kept; 0: for ever. */
    readonly packetTTL?: (packet: unknown) => number;
  }

  export default class AsyncRedisPersistence {
    constructor(options: AsyncRedisPersistenceOptions);
    setup(broker: unknown): Promise<void>;
    storeRetained(packet: import('aedes-persistence/asyncPersistence.js').RetainedPacket): Promise<void>;
    /** An async generator, not the Readable aedes 1.x pipes from (redisBackplane.ts wraps it). */
    createRetainedStreamCombi(patterns: readonly string[]): AsyncIterable<unknown>;
    createRetainedStream(pattern: string): AsyncIterable<unknown>;
    destroy(): Promise<void>;
  }
}

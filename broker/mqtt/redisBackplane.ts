import { Readable } from 'node:stream';
import { Redis, type RedisOptions } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import AsyncRedisPersistence from 'aedes-persistence-redis/asyncPersistence.js';
import type { Logger } from '../../protocol/logger.js';
import type { ClusterConfig } from '../config.js';
import { redisForLogs } from './redisForLogs.js';
import { RedisRetainedIndex } from './redisRetainedIndex.js';
import type { RetainedPacket } from 'aedes-persistence/asyncPersistence.js';

/**
 * What several aedes nodes share through one Redis (aedes README "Clusters"; docs/scale-out.md):
 *
 * - the emitter (mqemitter-redis): a PUBLISH that arrives on one node reaches subscribers on
 *   every node. A persistence shared WITHOUT a shared emitter delivers nothing across nodes
 *   (aedes issue #531), so the two always come together.
 * - the persistence (aedes-persistence-redis): retained messages (list manifests and chunks,
 *   terminal statuses), subscriptions, wills and in-flight QoS 1 packets.
 *
 * Redis pub/sub promises no delivery (a message can be dropped silently, redis issue
 * #10862), so nothing that must arrive rides on the emitter alone: events are stored on
 * the node they arrive on before their PUBACK, commands go through the store's queue and are
 * acknowledged end to end (broker/commands/commandDelivery.ts), revocations are read from
 * the store by every node (broker/auth/revocationWatcher.ts). What crosses the emitter is
 * what MQTT itself would lose on a reconnect anyway: live status and list news, and the
 * retained copies a new SUBSCRIBE reads from Redis again.
 *
 * Every key and channel starts with `cluster.keyPrefix`: keys through ioredis's `keyPrefix`,
 * channels through MQEmitterRedisPrefix (pub/sub ignores database numbers).
 */

// The prefixed emitter is exported beside the default one but missing from its typings.
const { MQEmitterRedisPrefix } = mqemitterRedis as unknown as {
  MQEmitterRedisPrefix: new (prefix: string, options: Record<string, unknown>) => ReturnType<typeof mqemitterRedis>;
};

/**
 * aedes 1.2 pipes the retained messages of a SUBSCRIBE (`stream.pipe`, lib/handlers/
 * subscribe.js), while aedes-persistence-redis 11 answers with an async generator: without
 * this a SUBSCRIBE matching anything throws inside aedes and takes the process down.
 */
class RedisPersistence extends AsyncRedisPersistence {
  private readonly retained: RedisRetainedIndex;

  constructor(
    private readonly conn: Redis,
    private readonly logger: Logger,
  ) {
    // Terminals start clean sessions (gateway/uplink/clientOptions.ts): nothing should wait
    // offline for them; a third-party client with a persistent session gets at most a day.
    super({ conn: handledRejections(conn), packetTTL: () => 86_400 });
    this.retained = new RedisRetainedIndex(conn);
  }

  /** Indexes what an earlier version stored before this node answers any SUBSCRIBE. */
  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    const added = await this.retained.rebuild();
    if (added > 0) this.logger.info({ topics: added }, 'cluster.retained-indexed');
  }

  /** Retained messages go through the prefix index (redisRetainedIndex.ts), not the library's HSCAN. */
  override async storeRetained(packet: RetainedPacket): Promise<void> {
    await this.retained.store(packet);
  }

  /**
   * A PING first: Redis answers in order, so the will deletions aedes fired while closing its
   * clients are done before the connection goes (they would fail as "Connection is closed").
   */
  override async destroy(): Promise<void> {
    await this.conn.ping().catch(() => undefined);
    await super.destroy();
  }

  override createRetainedStreamCombi(patterns: readonly string[]): Readable & AsyncIterable<unknown> {
    return this.guarded(Readable.from(this.retained.match(patterns)));
  }

  override createRetainedStream(pattern: string): Readable & AsyncIterable<unknown> {
    return this.createRetainedStreamCombi([pattern]);
  }

  /**
   * aedes `pipe`s the stream, and pipe() forwards no error: Redis lost during a SUBSCRIBE's
   * retained read would be an unhandled 'error' event, which ends the process (seen when a
   * node closed mid-read). Logged instead; that SUBSCRIBE gets no retained copies, and the
   * terminal's list sync asks again on its next connection.
   */
  private guarded(stream: Readable): Readable {
    stream.on('error', (err: Error) => this.logger.warn({ reason: err.message }, 'cluster.retained-read-failed'));
    return stream;
  }
}

/**
 * The connection with every command's promise marked handled. aedes-persistence-redis fires
 * some commands without awaiting them (putWill's and delWill's LREM, RPUSH); with Redis
 * away each would be an unhandled rejection, which ends a Node process. A caller that awaits
 * still gets the rejection: only the unawaited ones are silenced, and the next awaited
 * command on the same lost Redis reports the outage (`mqtt.broker-error`).
 */
function handledRejections(conn: Redis): Redis {
  return new Proxy(conn, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) result.catch(() => undefined);
        return result;
      };
    },
  });
}

export interface RedisBackplane {
  /** aedes `mq`. */
  readonly mq: unknown;
  /** aedes `persistence`. */
  readonly persistence: AsyncRedisPersistence;
  /** A connection for our own keys (the auth throttle, the terminal holders), already prefixed. */
  readonly redis: Redis;
  /** Closes what aedes.close() leaves open: it closes the emitter but never destroys the persistence. */
  close(): Promise<void>;
}


/**
 * ioredis options every connection shares. `maxRetriesPerRequest: 1`: a command on a lost
 * Redis fails within a second or two instead of queueing for ever (ioredis's default is 20
 * retries), so a login on a node cut off from Redis is answered, not hung.
 */
function connectionOptions(role: string): RedisOptions {
  return {
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    // Capped: a Redis back after an outage is found within 2 s.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 10), 2_000),
    connectionName: `qrgate-${role}`,
  };
}

export function openRedisBackplane(cluster: ClusterConfig, logger: Logger): RedisBackplane {
  const where = redisForLogs(cluster.redisUrl);
  const connections: Redis[] = [];
  const open = (role: string, options: RedisOptions = {}): Redis => {
    const connection = new Redis(cluster.redisUrl, { ...connectionOptions(role), ...options });
    // Without a listener ioredis prints every failed reconnect to stderr; one line per state change is enough.
    let down = false;
    connection.on('error', (err: Error) => {
      if (down) return;
      down = true;
      logger.error({ redis: where, role, reason: err.message }, 'cluster.redis-unreachable');
    });
    connection.on('ready', () => {
      if (!down) return;
      down = false;
      logger.info({ redis: where, role }, 'cluster.redis-back');
    });
    connections.push(connection);
    return connection;
  };
  // Pub/sub connections keep no key prefix: the channel prefix is MQEmitterRedisPrefix's.
  const mq = new MQEmitterRedisPrefix(cluster.keyPrefix, { subConn: handledRejections(open('mq-sub')), pubConn: handledRejections(open('mq-pub')), matchEmptyLevels: true });
  const persistence = new RedisPersistence(open('persistence', { keyPrefix: cluster.keyPrefix }), logger);
  const redis = open('state', { keyPrefix: cluster.keyPrefix });
  let closing: Promise<void> | null = null;
  return {
    mq,
    persistence,
    redis,
    close() {
      closing ??= (async () => {
        await persistence.destroy().catch(() => undefined);
        // quit() waits for a reply a dead Redis never sends; disconnect() does not.
        for (const connection of connections) connection.disconnect();
      })();
      return closing;
    },
  };
}

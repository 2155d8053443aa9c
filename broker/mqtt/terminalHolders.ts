import type { Redis } from 'ioredis';
import type { Logger } from '../../protocol/logger.js';

/**
 * Which node holds each terminal's connection, in one Redis hash (`holders`: terminal id ->
 * node id), for two things a cluster needs and one node never did:
 *
 * - the fleet shows where a terminal is connected (GET /api/terminals `node`);
 * - news from a node that no longer holds the terminal is outdated. A terminal whose link
 *   blinked reconnects, perhaps to another node, long before the old node's keep-alive
 *   notices (1.5 × 30 s); the old node then publishes the terminal's will (`offline`) and
 *   records a disconnection, after the new node recorded it online. A node that died leaves
 *   its wills in Redis for a survivor to publish minutes later (aedes's will sweep). Both
 *   would show a connected terminal offline, so both are dropped when the hash names
 *   another node.
 *
 * Advisory only: with Redis unreachable every answer falls back to what one node alone
 * would do (record the disconnection, publish the will), never to losing a status.
 */

/** Deletes the terminal's entry only if it is still `node`'s; 1 when `node` (or nobody) held it. */
const releaseScript = `
local holder = redis.call('hget', KEYS[1], ARGV[1])
if holder == ARGV[2] then redis.call('hdel', KEYS[1], ARGV[1]) return 1 end
if holder == false then return 1 end
return 0`;

const holdersKey = 'holders';

export class TerminalHolders {
  constructor(
    private readonly redis: Redis,
    readonly nodeId: string,
    private readonly logger: Logger,
  ) {}

  /** The terminal connected here: later news from its previous node is outdated. */
  async hold(terminalId: string): Promise<void> {
    try {
      await this.redis.hset(holdersKey, terminalId, this.nodeId);
    } catch (err) {
      this.logger.warn({ terminalId, reason: (err as Error).message }, 'cluster.holder-unrecorded');
    }
  }

  /**
   * The terminal's connection here ended. True when this node still held it (or nobody
   * did, or Redis cannot say): its disconnection is news. False when another node holds it now.
   */
  async release(terminalId: string): Promise<boolean> {
    try {
      return (await this.redis.eval(releaseScript, 1, holdersKey, terminalId, this.nodeId)) === 1;
    } catch (err) {
      this.logger.warn({ terminalId, reason: (err as Error).message }, 'cluster.holder-unknown');
      return true;
    }
  }

  /** Whether an offline status published on `publisherNode` is outdated: another node holds the terminal now. */
  async outdated(terminalId: string, publisherNode: string | undefined): Promise<boolean> {
    try {
      const holder = await this.redis.hget(holdersKey, terminalId);
      return holder !== null && holder !== publisherNode;
    } catch (err) {
      this.logger.warn({ terminalId, reason: (err as Error).message }, 'cluster.holder-unknown');
      return false;
    }
  }

  /** Every terminal's holder, for the fleet view; empty when Redis cannot say. */
  async all(): Promise<ReadonlyMap<string, string>> {
    try {
      return new Map(Object.entries(await this.redis.hgetall(holdersKey)));
    } catch (err) {
      this.logger.warn({ reason: (err as Error).message }, 'cluster.holder-unknown');
      return new Map();
    }
  }
}

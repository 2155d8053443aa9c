import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import AsyncRedisPersistence from 'aedes-persistence-redis/asyncPersistence.js';
import { RedisRetainedIndex } from '../../broker/mqtt/redisRetainedIndex.js';
import { commandFilter, terminalTopic } from '../../protocol/topics.js';
import { percentile, round } from './stats.js';

/**
 * A terminal's login SUBSCRIBE (`…/cmd/#`) against N retained statuses in a cluster's Redis,
 * answered by aedes-persistence-redis's HSCAN ("library") and by our prefix index ("index",
 * broker/mqtt/redisRetainedIndex.ts), alternately, on the same data. Wall time per SUBSCRIBE
 * (p50/p95), Redis commands per SUBSCRIBE (INFO stats, so run it on a Redis nothing else
 * uses for the figure to be exact), and this process's CPU per SUBSCRIBE.
 */
export interface RetainedBenchOptions {
  readonly redisUrl: string;
  readonly retained: number;
  readonly subscribes: number;
  readonly log: (line: string) => void;
}

interface PathFigures {
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  redisCommandsPerSubscribe: number;
  cpuMsPerSubscribe: number;
}

export async function runRetainedBench(options: RetainedBenchOptions): Promise<Record<string, unknown>> {
  const keyPrefix = `qrgate-bench-${randomBytes(6).toString('hex')}:`;
  const conn = new Redis(options.redisUrl, { keyPrefix, maxRetriesPerRequest: 1 });
  const admin = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  const library = new AsyncRedisPersistence({ conn });
  const index = new RedisRetainedIndex(conn);
  const terminal = (n: number) => ({ code: `CP${n % 500}`, id: `t-${n.toString().padStart(6, '0')}` });
  try {
    options.log(`storing ${options.retained} retained statuses under ${keyPrefix}`);
    const memoryBefore = await usedMemory(admin);
    for (let start = 0; start < options.retained; start += 500) {
      const batch = Array.from({ length: Math.min(500, options.retained - start) }, (_, i) => terminal(start + i));
      await Promise.all(batch.map((t) => index.store({ cmd: 'publish', topic: terminalTopic(t.code, t.id, 'status'), payload: Buffer.from('{"state":"online","bootId":"00000000-0000-4000-8000-000000000000","at":1764790000000}'), qos: 1, retain: true })));
    }
    const memoryAfter = await usedMemory(admin);
    const sample = { library: [] as number[], index: [] as number[] };
    const commands = { library: 0, index: 0 };
    const cpu = { library: 0, index: 0 };
    const paths = {
      library: (filter: string) => library.createRetainedStreamCombi([filter]),
      index: (filter: string) => index.match([filter]),
    };
    for (let i = 0; i < options.subscribes; i++) {
      const t = terminal((i * 7919) % options.retained);
      for (const name of ['library', 'index'] as const) {
        const before = await totalCommands(admin);
        const cpuBefore = process.cpuUsage();
        const started = process.hrtime.bigint();
        let found = 0;
        for await (const _packet of paths[name](commandFilter(t.code, t.id))) found++;
        sample[name].push(Number(process.hrtime.bigint() - started) / 1e6);
        const used = process.cpuUsage(cpuBefore);
        cpu[name] += (used.user + used.system) / 1000;
        // The INFO call itself is one command.
        commands[name] += (await totalCommands(admin)) - before - 1;
        if (found !== 0) throw new Error(`${name} found ${found} retained messages under a command filter`);
      }
    }
    const figures = (name: 'library' | 'index'): PathFigures => {
      const sorted = [...sample[name]].sort((a, b) => a - b);
      return {
        p50Ms: round(percentile(sorted, 50)),
        p95Ms: round(percentile(sorted, 95)),
        maxMs: round(sorted.at(-1) ?? Number.NaN),
        redisCommandsPerSubscribe: round(commands[name] / options.subscribes, 1),
        cpuMsPerSubscribe: round(cpu[name] / options.subscribes),
      };
    };
    return {
      retained: options.retained,
      subscribes: options.subscribes,
      library: figures('library'),
      index: figures('index'),
      redisBytesPerRetainedStatus: round((memoryAfter - memoryBefore) / options.retained, 0),
      indexBytesPerTopic: round(((await admin.memory('USAGE', `${keyPrefix}retained-topics`)) ?? 0) / options.retained, 0),
    };
  } finally {
    for await (const keys of admin.scanStream({ match: `${keyPrefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await admin.del(...keys);
    }
    conn.disconnect();
    admin.disconnect();
  }
}

async function usedMemory(admin: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1] ?? Number.NaN);
}

async function totalCommands(admin: Redis): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))?.[1] ?? Number.NaN);
}

/**
 * The proof: three `qrgate central` processes on one PostgreSQL and one Redis,
 * twenty terminals under load (in this process: real outboxes on SQLite files, real uplinks
 * with `central.urls`, real sockets), SIGKILL one node, then another once the first is back;
 * every decided event stored exactly once, every terminal reconnected to a live node within
 * 10 s, a command queued through any node reaches its terminal, a removed terminal is cut
 * off within 2 s wherever it is connected.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { TerminalClock } from '../../gateway/clock.js';
import { ListCache } from '../../gateway/listCache.js';
import { Outbox } from '../../gateway/outbox.js';
import { openTerminalDb } from '../../gateway/terminalDb.js';
import { uplinkConfigSchema } from '../../gateway/uplink/config.js';
import { Uplink } from '../../gateway/uplink/uplink.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { captureLogger } from '../fakes/captureLogger.js';
import { qrgate } from '../helpers/centralSite.js';
import { usePostgresDatabase } from '../helpers/postgres.js';
import { useQrgateProcesses, type QrgateProcess } from '../helpers/qrgateProcess.js';
import { testRedisUrl, useRedisPrefix } from '../helpers/redis.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';
import { draft } from '../gateway/uplink/rig.js';

/** Redis `used_memory` now, and how many keys under `prefix` by their first segment (`client`, `will`, `retained`, …). */
async function redisFigures(prefix: string): Promise<{ usedMemory: number; keys: Record<string, number> }> {
  const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: 1 });
  try {
    const usedMemory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const keys: Record<string, number> = {};
    for await (const page of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      for (const key of page) {
        const kind = /^[^:/]+/.exec(key.slice(prefix.length))?.[0] ?? key;
        keys[kind] = (keys[kind] ?? 0) + 1;
      }
    }
    return { usedMemory, keys };
  } finally {
    redis.disconnect();
  }
}

describe('a cluster of three centrals (issue 15 point 6)', () => {
  const tempDir = useTempDir('qrgate-cluster-chaos-');
  const database = usePostgresDatabase();
  const redisPrefix = useRedisPrefix();
  const processes = useQrgateProcesses();

  it('keeps every event once, moves terminals to live nodes, and carries commands and cut-offs across nodes', async () => {
    const dir = tempDir();
    const keyPrefix = redisPrefix();
    const store = { type: 'postgres' as const, url: database.url() };
    const first = writeLocalCentral(join(dir, 'n1'), { store, cluster: { redisUrl: testRedisUrl, nodeId: 'n1', keyPrefix } });
    const configs = [first];
    for (const node of ['n2', 'n3']) {
      const file = join(dir, `${node}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          dataDir: join(dir, node, 'central-data'),
          mqtt: { host: '127.0.0.1', port: 0 },
          http: { host: '127.0.0.1', port: 0 },
          store,
          // One deployment, one authority and ref key.
          keys: { authorityKey: join(dir, 'n1', 'keys', 'authority.key'), refKey: join(dir, 'n1', 'keys', 'ref.key') },
          cluster: { redisUrl: testRedisUrl, nodeId: node, keyPrefix },
        }),
      );
      configs.push(file);
    }
    const mqttPorts: number[] = [];
    const nodes: QrgateProcess[] = [];
    const startNode = async (i: number): Promise<void> => {
      const proc = processes.start(['central', '--config', configs[i]!]);
      const ready = await proc.waitForLine((line) => line.msg === 'central.ready', 60_000);
      nodes[i] = proc;
      // Port 0 the first time; the same port again after a kill, so the terminals' urls hold.
      mqttPorts[i] = (ready.mqtt as { port: number }).port;
    };
    const redisBefore = await redisFigures(keyPrefix);
    for (let i = 0; i < 3; i++) await startNode(i);

    const code = (JSON.parse(await qrgate(['checkpoints', 'create', '--central-config', first, '--name', 'Cluster gate', '--direction', 'both', '--confirm', 'auto', '--json'])) as { code: string }).code;
    const urls = mqttPorts.map((port) => `mqtt://127.0.0.1:${port}`);
    const log = captureLogger('info');
    const terminals = await Promise.all(
      Array.from({ length: 20 }, async (_, n) => {
        const out = join(dir, `t${n}.json`);
        const added = JSON.parse(await qrgate(['terminals', 'add', '--central-config', first, '--checkpoint', code, '--url', urls[0]!, '--out', out, '--json'])) as { terminalId: string };
        const saved = JSON.parse((await import('node:fs')).readFileSync(out, 'utf8')) as { central: { username: string; password: string } };
        const dataDir = join(dir, `t${n}-data`);
        const db = openTerminalDb(dataDir);
        const clock = new TerminalClock(db);
        const bootId = randomUUID();
        const outbox = new Outbox(db, { terminalId: added.terminalId, checkpointCode: code, bootId }, clock);
        const uplink = new Uplink({
          config: uplinkConfigSchema.parse({ urls, username: saved.central.username, password: saved.central.password }),
          terminalId: added.terminalId,
          checkpointCode: code,
          bootId,
          outbox,
          clock,
          lists: new ListCache(dataDir),
          scopes: [],
          lanes: [],
          logger: log.logger.child({ terminalId: added.terminalId }),
          clockSynced: () => null,
        });
        uplink.start();
        return { terminalId: added.terminalId, db, outbox, uplink, decided: [] as string[] };
      }),
    );
    // Load: every terminal decides a scan every 20 ms until told to stop.
    let loading = true;
    let load: Promise<void> = Promise.resolve();
    // Redis's memory through the run: its peak is what a deployment sizes for.
    let redisPeak = redisBefore.usedMemory;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        redisPeak = Math.max(redisPeak, (await redisFigures(keyPrefix)).usedMemory);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    try {
      load = (async () => {
        while (loading) {
          for (const t of terminals) t.decided.push(t.outbox.record(draft).id);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      await waitFor(() => terminals.every((t) => t.uplink.connected), 30_000, 'all twenty connected');

      const killAndWatch = async (i: number) => {
        nodes[i]!.kill('SIGKILL');
        await nodes[i]!.exited;
        const killedAt = Date.now();
        await waitFor(() => terminals.every((t) => t.uplink.connected), 10_000, `every terminal on a live node within 10 s of killing node ${i + 1}`);
        return Date.now() - killedAt;
      };
      const restartNode = async (i: number) => {
        const file = configs[i]!;
        const config = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8')) as Record<string, unknown> & { mqtt: Record<string, unknown> };
        writeFileSync(file, JSON.stringify({ ...config, mqtt: { ...config.mqtt, port: mqttPorts[i] } }));
        await startNode(i);
      };
      const firstMove = await killAndWatch(0);
      await restartNode(0);
      const secondMove = await killAndWatch(1);
      await restartNode(1);

      // A command queued through node 3's config reaches a terminal wherever it is.
      const target = terminals[0]!;
      await qrgate(['terminals', 'command', '--central-config', configs[2]!, '--terminal', target.terminalId, 'ping']);
      await waitFor(() => log.lines.some((l) => l.msg === 'command.executed' && l.terminalId === target.terminalId && l.name === 'ping'), 30_000, 'the ping ran on its terminal');

      // A removed terminal is cut off within 2 s, whichever node holds it.
      const removed = terminals[1]!;
      await qrgate(['terminals', 'remove', '--central-config', configs[1]!, '--terminal-id', removed.terminalId]);
      const removedAt = Date.now();
      await waitFor(() => !removed.uplink.connected, 2_000 + 1_000, 'the removed terminal cut off');
      const cutOffMs = Date.now() - removedAt;

      loading = false;
      await load;
      const live = terminals.filter((t) => t !== removed);
      await waitFor(() => live.every((t) => t.outbox.depth() === 0), 60_000, 'every outbox drained');

      // Every decided event of a terminal still admitted is stored exactly once.
      const client = new pg.Client({ connectionString: database.url() });
      await client.connect();
      try {
        for (const t of live) {
          const { rows } = await client.query<{ id: string; n: string }>('SELECT id, count(*) AS n FROM events WHERE terminal_id = $1 GROUP BY id', [t.terminalId]);
          expect(rows.filter((row) => Number(row.n) !== 1)).toEqual([]);
          expect(rows.map((row) => row.id).sort()).toEqual([...t.decided].sort());
        }
      } finally {
        await client.end();
      }
      console.info(`cluster: moved within ${firstMove} ms and ${secondMove} ms of the kills; removed terminal cut off in ${cutOffMs} ms`);

      // Nothing per terminal outlives it: with every terminal gone, no subscription (client:*),
      // will or in-flight packet of theirs is left in Redis; what stays is one retained status
      // each (their last word, `offline`) and the nodes' own keys.
      const redisLoaded = await redisFigures(keyPrefix);
      await Promise.all(terminals.map((t) => t.uplink.stop()));
      const perTerminal = ['client', 'will', 'outgoing', 'outgoing-id', 'incoming', 'packet'];
      await waitFor(
        async () => {
          const { keys } = await redisFigures(keyPrefix);
          const left = perTerminal.filter((kind) => (keys[kind] ?? 0) > 0);
          if (left.length > 0) throw new Error(`left: ${JSON.stringify(keys)}`);
          return true;
        },
        30_000,
        'no per-terminal keys left in Redis once the terminals left',
      );
      const redisAfter = await redisFigures(keyPrefix);
      const retained = new Redis(testRedisUrl, { keyPrefix, maxRetriesPerRequest: 1 });
      try {
        // The 19 live terminals' statuses and the removed one's (its will or last word), nothing else.
        expect(await retained.hlen('retained')).toBeLessThanOrEqual(terminals.length);
        expect(await retained.zcard('retained-topics')).toBe(await retained.hlen('retained'));
      } finally {
        retained.disconnect();
      }
      console.info(
        `cluster redis: used_memory before ${redisBefore.usedMemory}, loaded ${redisLoaded.usedMemory}, peak ${redisPeak}, after ${redisAfter.usedMemory}; ` +
          `keys loaded ${JSON.stringify(redisLoaded.keys)}, after the terminals left ${JSON.stringify(redisAfter.keys)}`,
      );
    } finally {
      sampling = false;
      await sampler;
      loading = false;
      await load;
      await Promise.all(terminals.map((t) => t.uplink.stop()));
      for (const t of terminals) t.db.close();
    }
  });
});

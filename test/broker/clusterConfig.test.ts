import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { centralConfigSchema, clusterSchema, defaultNodeId } from '../../broker/config.js';
import { redisForLogs } from '../../broker/mqtt/redisForLogs.js';

const base = { dataDir: 'data', keys: { authorityKey: 'k', refKey: 'r' }, store: { type: 'postgres', url: 'postgresql://db/qrgate' } };
const paths = (input: unknown) => centralConfigSchema.safeParse(input).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];

describe('the central config\'s cluster section', () => {
  it('takes a Redis URL, a node id defaulting to the host name, and a key prefix', () => {
    const parsed = centralConfigSchema.parse({ ...base, cluster: { redisUrl: 'redis://:pw@redis.internal:6379/2' } });
    expect(parsed.cluster).toEqual({ redisUrl: 'redis://:pw@redis.internal:6379/2', nodeId: defaultNodeId(hostname()), keyPrefix: 'qrgate:' });
    expect(defaultNodeId('central-2.province.example')).toBe('central-2');
    expect(defaultNodeId('__')).toBe('central');
    expect(clusterSchema.parse({ redisUrl: 'rediss://r:6380', nodeId: 'hue-1', keyPrefix: 'hue:' }).nodeId).toBe('hue-1');
  });

  it('names every bad field in one pass', () => {
    expect(paths({ ...base, cluster: { redisUrl: 'http://r', nodeId: 'node a', keyPrefix: 'q*', extra: 1 } }).map((p) => p.split(':')[0]).sort()).toEqual([
      'cluster', // the unknown "extra"
      'cluster.keyPrefix',
      'cluster.nodeId',
      'cluster.redisUrl',
    ]);
    expect(paths({ ...base, cluster: { redisUrl: 'redis://r/db' } })).toEqual(['cluster.redisUrl: the path may only be a database number, e.g. /0']);
  });

  it('refuses a cluster on SQLite: two SQLite files are two stores', () => {
    expect(paths({ ...base, store: { type: 'sqlite' }, cluster: { redisUrl: 'redis://r' } })).toEqual([
      'cluster: several nodes need one shared store: set store.type "postgres" (docs/scale-out.md)',
    ]);
    expect(paths({ ...base, store: { type: 'sqlite' } })).toEqual([]);
  });

  it('logs the Redis server without its password', () => {
    expect(redisForLogs('redis://:s3cret@redis.internal:6379/2')).toBe('redis://redis.internal:6379/2');
  });
});

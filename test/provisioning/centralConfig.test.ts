import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { loadCentralConfig } from '../../broker/config.js';
import { ConfigError } from '../../protocol/configFile.js';
import { useTempDir } from '../helpers/tempDir.js';

describe('central configuration', () => {
  const tempDir = useTempDir('qrgate-central-config-');

  function write(config: unknown): string {
    const file = join(tempDir(), 'central.json');
    writeFileSync(file, JSON.stringify(config));
    return file;
  }

  it('reads the DESIGN.md example, resolving relative paths against the file and filling defaults', () => {
    const file = write({
      dataDir: '/var/lib/qrgate-central',
      mqtt: { host: '0.0.0.0', port: 1883, tls: { port: 8883, cert: 'tls/server.crt', key: 'tls/server.key' } },
      http: { host: '127.0.0.1', port: 8080 },
      store: { type: 'sqlite' },
      keys: { authorityKey: 'keys/authority.key', refKey: 'keys/ref.key' },
      metrics: { perCheckpoint: false },
      lab: false,
    });
    const dir = join(file, '..');
    const config = loadCentralConfig(file);
    expect(config).toMatchObject({
      file,
      dataDir: '/var/lib/qrgate-central',
      mqtt: { port: 1883, tls: { port: 8883, cert: join(dir, 'tls/server.crt'), key: join(dir, 'tls/server.key') }, maxPacketBytes: 256 * 1024, queueLimit: 42 },
      keys: { authorityKey: join(dir, 'keys/authority.key'), refKey: join(dir, 'keys/ref.key') },
      ingest: { commitDelayMs: 5, commitMaxEvents: 8000 },
      lab: false,
    });
    expect(Object.isFrozen(config.mqtt)).toBe(true);
  });

  it('needs only dataDir and keys', () => {
    const config = loadCentralConfig(write({ dataDir: 'data', keys: { authorityKey: 'a', refKey: 'r' } }));
    expect(config).toMatchObject({ mqtt: { host: '0.0.0.0', port: 1883 }, http: { host: '127.0.0.1', port: 8080 }, store: { type: 'sqlite' }, lab: false });
    expect(config.metrics).toEqual({ perCheckpoint: false });
  });

  it('takes metrics.perCheckpoint as a boolean and refuses a misspelt metrics field', () => {
    const keys = { authorityKey: 'a', refKey: 'r' };
    expect(loadCentralConfig(write({ dataDir: 'data', keys, metrics: { perCheckpoint: true } })).metrics).toEqual({ perCheckpoint: true });
    expect(() => loadCentralConfig(write({ dataDir: 'data', keys, metrics: { perCheckpoint: 'yes' } }))).toThrow(ConfigError);
    expect(() => loadCentralConfig(write({ dataDir: 'data', keys, metrics: { perCheckpoints: true } }))).toThrow(/perCheckpoints/);
  });

  it('expires an unclosed inside after inside.expiryHours, 24 by default, refusing a value outside 1 to 720 hours', () => {
    const keys = { authorityKey: 'a', refKey: 'r' };
    expect(loadCentralConfig(write({ dataDir: 'data', keys })).inside).toEqual({ expiryHours: 24 });
    expect(loadCentralConfig(write({ dataDir: 'data', keys, inside: { expiryHours: 12 } })).inside).toEqual({ expiryHours: 12 });
    expect(() => loadCentralConfig(write({ dataDir: 'data', keys, inside: { expiryHours: 0 } }))).toThrow(/inside\.expiryHours/);
    expect(() => loadCentralConfig(write({ dataDir: 'data', keys, inside: { expiryHours: 1.5 } }))).toThrow(/inside\.expiryHours/);
    expect(() => loadCentralConfig(write({ dataDir: 'data', keys, inside: { expiryHour: 12 } }))).toThrow(/expiryHour/);
  });

  it('names every bad field in one pass', () => {
    const file = write({
      dataDir: '',
      mqtt: { port: 70000, prot: 1, maxPacketBytes: 10 },
      http: { port: -1 },
      store: { type: 'mongo' },
      keys: { authorityKey: 'a' },
      lab: 'yes',
    });
    let error: unknown;
    try {
      loadCentralConfig(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining(['dataDir', 'mqtt.port', 'mqtt', 'mqtt.maxPacketBytes', 'http.port', 'store.type', 'keys.refKey', 'lab']),
    );
    expect((error as ConfigError).problems.find((p) => p.startsWith('mqtt:'))).toContain('prot');
  });

  it('takes a postgres store with its schema, public by default, and names a bad schema name', () => {
    const keys = { authorityKey: 'a', refKey: 'r' };
    expect(loadCentralConfig(write({ dataDir: 'd', store: { type: 'postgres', url: 'postgres://db/qrgate' }, keys })).store).toMatchObject({ type: 'postgres', schema: 'public' });
    expect(loadCentralConfig(write({ dataDir: 'd', store: { type: 'postgres', url: 'postgres://db/qrgate', schema: 'site_hue' }, keys })).store).toMatchObject({ schema: 'site_hue' });
    expect(() => loadCentralConfig(write({ dataDir: 'd', store: { type: 'postgres', url: 'postgres://db/qrgate', schema: 'Site-Huế' }, keys }))).toThrow(/store\.schema/);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { describe, it, expect } from 'vitest';
import { Central } from '../../../broker/central.js';
import { loadCentralConfig, type CentralConfigInput } from '../../../broker/config.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { testCertificate, testCertificateKey, writeCentralSite } from './centralFixture.js';

describe('Central: store + broker + ingestion + API', () => {
  const tempDir = useTempDir('qrgate-central-');

  function central(overrides: Partial<CentralConfigInput> = {}) {
    const dir = tempDir();
    const log = captureLogger('info');
    const config = loadCentralConfig(writeCentralSite(dir, overrides));
    return { dir, log, central: new Central(config, { logger: log.logger }) };
  }

  it('starts on free ports, logs them in central.ready, answers, and stops twice', async () => {
    const { central: c, log } = central();
    const ports = await c.start();
    try {
      const ready = log.messages('central.ready');
      expect(ready).toHaveLength(1);
      expect(ready[0]).toMatchObject({ mqtt: { port: ports.mqttPort }, http: { port: ports.httpPort }, store: 'sqlite', lab: false });
      expect(ports.mqttPort).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${ports.httpPort}/healthz`)).ok).toBe(true);
      const anonymous = connectAsync(`mqtt://127.0.0.1:${ports.mqttPort}`, { reconnectPeriod: 0 }, false);
      await expect(anonymous).rejects.toMatchObject({ code: 5 });
      expect(log.messages('central.lab-mode')).toHaveLength(0);
    } finally {
      await c.stop();
      await c.stop();
    }
    expect(log.messages('central.stopped')).toHaveLength(1);
  });

  it('serves MQTT over TLS on mqtt.tls.port', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls', 'server.crt'), testCertificate);
    writeFileSync(join(dir, 'tls', 'server.key'), testCertificateKey);
    const log = captureLogger('info');
    const config = loadCentralConfig(
      writeCentralSite(dir, { mqtt: { host: '127.0.0.1', port: 0, tls: { port: 0, cert: 'tls/server.crt', key: 'tls/server.key' } }, lab: true }),
    );
    const c = new Central(config, { logger: log.logger });
    const ports = await c.start();
    try {
      expect(log.messages('central.ready')[0]).toMatchObject({ mqtt: { port: ports.mqttPort, tlsPort: ports.tlsPort } });
      const client = await connectAsync(`mqtts://localhost:${ports.tlsPort}`, { ca: testCertificate, reconnectPeriod: 0 }, false);
      await client.publishAsync('lab/tls', 'over tls', { qos: 1 });
      await client.endAsync();
    } finally {
      await c.stop();
    }
  });

  it('warns loudly in lab mode', async () => {
    const { central: c, log } = central({ lab: true });
    await c.start();
    await c.stop();
    expect(log.messages('central.lab-mode')).toHaveLength(1);
    expect(log.messages('central.lab-mode')[0]!.level).toBe(40);
  });

  it.each([
    ['mqtt', (port: number) => ({ mqtt: { host: '127.0.0.1', port } }), 'mqtt.port'],
    ['http', (port: number) => ({ http: { host: '127.0.0.1', port } }), 'http.port'],
  ] as const)('refuses a %s port in use, naming the setting, and releases everything', async (_what, overrides, setting) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { central: c } = central(overrides(port));
      await expect(c.start()).rejects.toMatchObject({ code: 'port-in-use', setting, message: `${setting} ${port} is in use: choose another port or 0` });
      await c.stop();
    } finally {
      blocker.close();
    }
  });

  it('fails to start when its PostgreSQL server does not answer, and releases everything', async () => {
    const closed = await closedPort();
    const { central: c } = central({ store: { type: 'postgres', url: `postgresql://postgres@127.0.0.1:${closed}/qrgate` } });
    await expect(c.start()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await c.stop();
  });

  it('refuses to start without its key files, naming the file', async () => {
    const { central: c } = central({ keys: { authorityKey: 'keys/missing.key', refKey: 'keys/ref.key' } });
    await expect(c.start()).rejects.toMatchObject({ code: 'unreadable', message: expect.stringContaining('missing.key') });
  });

  it('refuses unreadable TLS files, naming the setting', async () => {
    const { central: c } = central({ mqtt: { host: '127.0.0.1', port: 0, tls: { port: 0, cert: 'nope.crt', key: 'nope.key' } } });
    await expect(c.start()).rejects.toMatchObject({ code: 'tls-files-unreadable', setting: 'mqtt.tls.cert' });
  });
});

/** A loopback port nobody listens on: bound, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

import { createServer } from 'node:net';
import { describe, it, expect } from 'vitest';
import { writeCentralSite } from '../broker/mqtt/centralFixture.js';
import { QrgateProcess } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

describe('qrgate central (a real process)', () => {
  const tempDir = useTempDir('qrgate-central-cli-');

  it('logs central.ready with the chosen ports and stops cleanly on SIGTERM', async () => {
    const central = new QrgateProcess(['central', '--config', writeCentralSite(tempDir())]);
    const ready = await central.waitForLine((l) => l.msg === 'central.ready');
    expect(ready).toMatchObject({ mqtt: { port: expect.any(Number) }, http: { port: expect.any(Number) } });
    expect((await fetch(`http://127.0.0.1:${(ready.http as { port: number }).port}/healthz`)).ok).toBe(true);
    central.kill('SIGTERM');
    expect(await central.exited).toEqual({ code: 0, signal: null });
    expect(central.linesWith('central.stopped')).toHaveLength(1);
  });

  it('exits 1 naming the setting when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const central = new QrgateProcess(['central', '--config', writeCentralSite(tempDir(), { mqtt: { host: '127.0.0.1', port } })]);
      expect((await central.exited).code).toBe(1);
      expect(central.stderr.join('\n')).toContain(`mqtt.port ${port} is in use: choose another port or 0`);
    } finally {
      blocker.close();
    }
  });

  it('exits 1 listing every bad field of an invalid config', async () => {
    const central = new QrgateProcess(['central', '--config', writeCentralSite(tempDir(), { mqtt: { port: -1 }, lab: 'yes' as unknown as boolean })]);
    expect((await central.exited).code).toBe(1);
    const stderr = central.stderr.join('\n');
    expect(stderr).toContain('mqtt.port');
    expect(stderr).toContain('lab');
  });
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testCertificate, testCertificateKey } from '../broker/mqtt/centralFixture.js';
import { createCentralSite, type CentralSite } from '../helpers/centralSite.js';
import { expectExactlyOnce, outboxDepth as terminalOutboxDepth, typeScans } from '../helpers/delivery.js';
import { freePort } from '../helpers/freePort.js';
import { useQrgateProcesses, type QrgateProcess } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * Delivery end to end with real processes: `qrgate central` and `qrgate terminal`, real
 * sockets, real SQLite files, scans typed into the terminal's keyboard lane. The claim under
 * test is DESIGN.md's: every decided event reaches the central store exactly once, whatever
 * is killed when.
 */

const outboxDepth = (site: CentralSite, name: string): number => terminalOutboxDepth(join(site.dir, `${name}-data`));

describe('delivery: terminal -> MQTT -> central store', () => {
  const tempDir = useTempDir();
  const { start, track } = useQrgateProcesses();

  /**
   * A provisioned terminal, running, that has decided `scans` scans with the central down.
   * It redials within half a second: with the default backoff (doubling to 30 s, full
   * jitter) a terminal that has been failing for a while sat out up to 30 s after each
   * central start, so the drain waited on the backoff, and a central-kill round (~5 s)
   * could end before the terminal redialled, its kill then hitting no ingestion at all.
   */
  async function terminalWithBacklog(site: CentralSite, scans: number, batchSize?: number) {
    const t = await site.addTerminal('gate-1', { ...(batchSize ? { batchSize } : {}), central: { reconnectMinMs: 100, reconnectMaxMs: 500 } });
    const terminal = start(['terminal', '--config', t.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'terminal.ready');
    const decided = await typeScans(terminal, site, scans, 0);
    expect(outboxDepth(site, 'gate-1')).toBe(scans);
    return { terminalId: t.terminalId, config: t.config, terminal, decided };
  }

  // Polled: a drained terminal prints nothing more, so a probe re-run only on new log lines
  // would miss a drain that ends after the last line (the TLS case flaked on exactly that).
  const drained = (site: CentralSite) => waitFor(() => outboxDepth(site, 'gate-1') === 0, 60_000, 'outbox drained', 100);

  it('buffers 500 scans while the central is down and delivers each exactly once when it comes up', async () => {
    const site = await createCentralSite(tempDir(), await freePort());
    const { terminalId, terminal, decided } = await terminalWithBacklog(site, 500);
    const central = await site.startCentral();
    track(central.proc);
    await drained(site);
    await expectExactlyOnce(central.api, terminalId, decided);
  });

  it('loses and doubles nothing when the terminal is killed with SIGKILL during the drain, 10 times', async () => {
    const site = await createCentralSite(tempDir(), await freePort());
    const backlog = await terminalWithBacklog(site, 1500, 10);
    const { terminalId, config, terminal: first } = backlog;
    let decided = backlog.decided;
    first.kill('SIGKILL');
    await first.exited;

    const central = await site.startCentral();
    track(central.proc);
    for (let round = 0; round < 10; round++) {
      const terminal = start(['terminal', '--config', config], 'pipe');
      await terminal.waitForLine((l) => l.msg === 'uplink.connected', 30_000);
      // keep scanning while draining, then kill at a different moment each round
      await typeScans(terminal, site, 20, 0);
      decided += 20;
      await new Promise((r) => setTimeout(r, (round * 37) % 120));
      terminal.kill('SIGKILL');
      await terminal.exited;
    }
    const last = start(['terminal', '--config', config], 'pipe');
    await last.waitForLine((l) => l.msg === 'terminal.ready');
    await drained(site);
    await expectExactlyOnce(central.api, terminalId, decided);
  });

  it('loses and doubles nothing when the central is killed with SIGKILL during ingestion, 10 times', async () => {
    const site = await createCentralSite(tempDir(), await freePort());
    const backlog = await terminalWithBacklog(site, 2000, 20);
    const { terminalId, terminal } = backlog;
    let decided = backlog.decided;

    for (let round = 0; round < 10; round++) {
      const central = await site.startCentral();
      track(central.proc);
      decided = await typeScans(terminal, site, 20, decided);
      await new Promise((r) => setTimeout(r, (round * 41) % 150));
      central.proc.kill('SIGKILL');
      await central.proc.exited;
    }
    const central = await site.startCentral();
    track(central.proc);
    await drained(site);
    await expectExactlyOnce(central.api, terminalId, decided);
  });

  it('delivers over TLS to a terminal that trusts the central, and never logs its password', async () => {
    const site = await createCentralSite(tempDir(), await freePort(), {
      tls: { port: await freePort(), cert: testCertificate, key: testCertificateKey },
    });
    const t = await site.addTerminal('gate-1');
    const central = await site.startCentral();
    track(central.proc);
    const terminal = start(['terminal', '--config', t.config], 'pipe');
    await terminal.waitForLine((l) => l.msg === 'uplink.connected', 30_000);
    const decided = await typeScans(terminal, site, 50, 0);
    await drained(site);
    await expectExactlyOnce(central.api, t.terminalId, decided);
    const everything = [...terminal.lines, ...central.proc.lines].map((l) => JSON.stringify(l)).join('\n');
    expect(everything).not.toContain(t.password);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Telemetry } from '../../protocol/messages.js';
import { getJson, storedEvents } from '../helpers/centralApi.js';
import { createCentralSite } from '../helpers/centralSite.js';
import { expectExactlyOnce, lastSeq, outboxDepth } from '../helpers/delivery.js';
import { QrgateProcess } from '../helpers/qrgateProcess.js';
import { TcpProxy } from '../helpers/tcpProxy.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';
import { seededRandom } from '../broker/store/scanEvents.js';
import { checkRelay, type Boot } from '../helpers/relayCheck.js';
import { siteVisitors, startCrowd } from './crowd.js';
import { chaosTerminal } from './rig.js';

/**
 * Issue 6, the terminal's disk fills. Its data folder is a small tmpfs (this test mounts it:
 * it needs root, as CI has); with the central unreachable the outbox grows until SQLite
 * answers SQLITE_FULL. Then: the terminal keeps running and refuses safely (no relay pulse
 * without a stored grant, no sequence number lost) and raises the storage alarm (log and
 * telemetry); the link comes back while the disk is still full; space returns, the alarm
 * clears, and every event it did store reaches the central exactly once.
 */

/** Fills the file system holding `dir` with one file until the OS refuses; returns its path. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 0xaa);
  let written = 0;
  for (;;) {
    try {
      writeFileSync(file, chunk, { flag: 'a' });
      written += chunk.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
      throw err;
    }
  }
  const { bavail, bsize } = statfsSync(dir);
  console.info(`disk-full: filler ${written} bytes, ${bavail * bsize} bytes left`);
  return file;
}

describe('chaos: the terminal disk fills up and frees again', () => {
  const tempDir = useTempDir('qrgate-diskfull-');
  const cleanups: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keeps deciding safely while SQLite is full, loses no stored event and recovers', async () => {
    const dir = tempDir();
    const disk = join(dir, 'gate-1-data'); // the terminal's dataDir (chaosTerminal)
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk]);
    cleanups.push(() => void execFileSync('umount', ['-l', disk]));

    const site = await createCentralSite(dir, 0, { people: 20, denied: 5 });
    const central = await site.startCentral();
    cleanups.push(async () => {
      central.proc.kill('SIGKILL');
      await central.proc.exited;
    });
    const proxy = await TcpProxy.start({ targetPort: central.mqttPort });
    cleanups.push(() => proxy.close());
    const { pair, terminalId, config, dataDir } = await chaosTerminal(site, proxy, (close) => cleanups.push(close));
    expect(dataDir).toBe(disk);
    const terminal = new QrgateProcess(['terminal', '--config', config]);
    const boots: Boot[] = [{ proc: terminal, ended: null }];
    cleanups.push(async () => {
      terminal.kill('SIGKILL');
      await terminal.exited;
    });
    await terminal.waitForLine((l) => l.msg === 'uplink.connected', 60_000);

    // Refusals among the grants, from the first scans on: the relay check must see them refused.
    const visitor = siteVisitors(site, seededRandom(0x0d15cf11));
    const crowd = await startCrowd(pair, () => ({ text: visitor(), pauseMs: 10 }));
    cleanups.push(() => crowd.stop());
    const decided = () => terminal.linesWith('scan.decided').length;
    const failed = () => terminal.linesWith('scan.unrecorded').length;

    // Offline, the outbox grows; fill the disk and keep scanning until SQLite refuses.
    await terminal.waitFor(() => (decided() >= 20 ? true : undefined), 30_000, '20 decisions online');
    proxy.cut();
    const filler = fill(dataDir);
    await terminal.waitFor(() => (failed() >= 20 ? true : undefined), 60_000, 'SQLite refusing writes');
    const decidedWhileFull = decided();
    // The link comes back while the disk is still full: acknowledgements must delete rows.
    const depthWhileFull = outboxDepth(dataDir);
    proxy.restore();
    // PUBACKs arrive on a full disk: the delete fails (and the link is dropped to retry) or
    // finds room in the WAL; either way the terminal must live on.
    await terminal.waitFor(
      () => (terminal.linesWith('uplink.outbox-remove-failed').length > 0 || outboxDepth(dataDir) < depthWhileFull ? true : undefined),
      30_000,
      'acknowledgements on a full disk',
    );
    const removeFailures = terminal.linesWith('uplink.outbox-remove-failed').length;
    // The alarm: in the log once per episode, and in the telemetry the central shows its operators.
    expect(terminal.linesWith('storage.write-failed')[0]).toMatchObject({ level: 50, code: 'SQLITE_FULL' });
    const alarm = await waitFor(async () => {
      const fleet = await getJson<{ terminals: Array<{ terminalId: string; telemetry: Telemetry | null }> }>(central.api, '/api/terminals');
      const storage = fleet.terminals.find((x) => x.terminalId === terminalId)?.telemetry?.storage;
      return storage?.writable === false ? storage : undefined;
    }, 30_000, 'the storage alarm in the fleet view');
    expect(alarm).toMatchObject({ error: 'SQLITE_FULL' });
    rmSync(filler);
    await terminal.waitFor(() => (decided() >= decidedWhileFull + 50 ? true : undefined), 60_000, 'deciding again');
    const lastAlarm = terminal.lines.findLastIndex((l) => l.msg === 'storage.write-failed');
    expect(terminal.lines.slice(lastAlarm).some((l) => l.msg === 'storage.recovered')).toBe(true);
    await crowd.stop();
    // Polled: a drained terminal prints nothing more to wake a line-driven probe.
    await waitFor(() => outboxDepth(dataDir) === 0, 60_000, 'outbox drained', 100);
    terminal.kill('SIGTERM');
    expect(await terminal.exited).toEqual({ code: 0, signal: null });
    boots[0]!.ended = 'SIGTERM';

    const last = lastSeq(dataDir);
    await expectExactlyOnce(central.api, terminalId, last);
    const stored = await storedEvents(central.api, terminalId);
    const relay = checkRelay(boots, { stored });
    expect(relay.problems).toEqual([]);
    // The check saw the refusals it guards against, and grants: every pulse served one of these.
    const reasons = new Set(stored.map((e) => e.reason));
    for (const reason of ['denied', 'unknown', 'malformed']) expect(reasons, `a stored ${reason} refusal`).toContain(reason);
    expect(relay.refusals).toBeGreaterThan(0);
    expect(relay.pulses).toBeGreaterThan(0);
    const errors = terminal.lines.filter((l) => l.level >= 50);
    console.info(
      `disk-full: ${last} events stored (relay pulses ${relay.pulses}, rises ${relay.rises}, refusals ${relay.refusals}), ${failed()} scans refused by a full disk, ${removeFailures} failed deletes before space returned, error lines: ${JSON.stringify(
        [...new Set(errors.map((l) => `${l.msg}: ${String((l.err as { code?: string } | undefined)?.code)}`))],
      )}`,
    );
    // lane.failed: a write after the outbox's (anti-passback) that found the disk full.
    const expected = ['lane.failed', 'uplink.outbox-remove-failed', 'storage.write-failed'];
    expect(errors.filter((l) => !expected.includes(l.msg)).map((l) => l.msg)).toEqual([]);
  });
});

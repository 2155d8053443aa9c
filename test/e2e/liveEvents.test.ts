import { describe, expect, it } from 'vitest';
import { createToken } from '../../broker/access/tokens.js';
import { loadCentralConfig } from '../../broker/config.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import type { ScanEvent } from '../../protocol/event.js';
import { createCentralSite } from '../helpers/centralSite.js';
import { freePort } from '../helpers/freePort.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { openSse, type SseClient } from '../helpers/sseClient.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * The live in/out log end to end: `qrgate central` and two `qrgate terminal` processes, a
 * scan typed at a terminal's keyboard lane, and browsers' feeds (GET /api/events/live)
 * reading the central over HTTP. What arrives is what ingestion committed, to the feeds
 * whose filters and scope take it.
 */

const scans = (client: SseClient): ScanEvent[] => client.messages.filter((m) => m.event === 'scan').map((m) => JSON.parse(m.data) as ScanEvent);

describe('live in/out log: terminal -> MQTT -> central -> server-sent events', () => {
  const tempDir = useTempDir();
  const { start, track } = useQrgateProcesses();

  it("shows a typed scan on the feeds that may see it, and not on another unit's manager's or another terminal's", async () => {
    const site = await createCentralSite(tempDir(), await freePort());
    const gate1 = await site.addTerminal('gate-1');
    const gate2 = await site.addTerminal('gate-2');
    const central = await site.startCentral();
    track(central.proc);
    const otherUnitManager = await withRegistry(loadCentralConfig(site.centralConfig), (db) =>
      createToken(db, { name: 'other unit', role: 'manager', unit: 'Tổ dân phố 5', createdBy: 'test' }),
    );

    const feeds: SseClient[] = [];
    const watch = async (path: string, token: string): Promise<SseClient> => {
      const feed = await openSse(`http://127.0.0.1:${central.httpPort}${path}`, { authorization: `Bearer ${token}` });
      expect(feed.status, path).toBe(200);
      feeds.push(feed);
      await waitFor(() => feed.comments.includes('live'), 10_000, `${path} open`);
      return feed;
    };
    try {
      const all = await watch('/api/events/live', central.api.token);
      const onlyGate2 = await watch(`/api/events/live?terminal=${gate2.terminalId}`, central.api.token);
      const otherUnit = await watch('/api/events/live', otherUnitManager.token);

      const terminals = [start(['terminal', '--config', gate1.config], 'pipe'), start(['terminal', '--config', gate2.config], 'pipe')];
      for (const terminal of terminals) await terminal.waitForLine((l) => l.msg === 'uplink.connected', 30_000);

      terminals[0]!.stdin.write(`${site.people[0]}\n`);
      const first = await waitFor(() => scans(all).find((e) => e.terminalId === gate1.terminalId), 30_000, "gate-1's scan on the live feed");
      // The terminal stamped the event at its decision, on this machine's clock.
      const firstLatencyMs = Date.now() - Date.parse(first.ts);
      expect(first).toMatchObject({ checkpointCode: gate1.code, decision: 'granted', direction: 'in' });

      terminals[1]!.stdin.write(`${site.people[1]}\n`);
      const second = await waitFor(() => scans(onlyGate2)[0], 30_000, "gate-2's scan on gate-2's feed");
      expect(second.terminalId).toBe(gate2.terminalId);
      await waitFor(() => scans(all).length === 2, 30_000, 'both scans on the unfiltered feed');
      // Feeds get events in commit order: gate-2's feed skipped gate-1's scan, committed before its own.
      expect(scans(onlyGate2).map((e) => e.id)).toEqual([second.id]);
      // The checkpoint is no unit's: another unit's manager saw neither, though both went out before gate-2's arrived.
      expect(scans(otherUnit)).toEqual([]);
      // What the feed showed is what the log holds.
      const logged = (await (await fetch(`http://127.0.0.1:${central.httpPort}/api/events`, { headers: { authorization: `Bearer ${central.api.token}` } })).json()) as { events: ScanEvent[] };
      expect(logged.events.map((e) => e.id)).toEqual([second.id, first.id]);
      console.log(`live log: scan decided -> on the feed in ${firstLatencyMs} ms`);
    } finally {
      for (const feed of feeds) await feed.close();
    }
  }, 120_000);
});

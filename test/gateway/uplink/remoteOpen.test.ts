import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { pino } from 'pino';
import { TerminalClock } from '../../../gateway/clock.js';
import { loadTerminalConfig, type LaneConfig } from '../../../gateway/config.js';
import { Lane } from '../../../gateway/lane.js';
import { ListCache } from '../../../gateway/listCache.js';
import { Outbox } from '../../../gateway/outbox.js';
import { Presence } from '../../../gateway/presence.js';
import { openTerminalDb, type TerminalDb } from '../../../gateway/terminalDb.js';
import { laneSignals } from '../../../gateway/feedback.js';
import { SimGpio } from '../../../hardware/gpio/simGpio.js';
import type { ScanEvent } from '../../../protocol/event.js';
import { createDemoSite } from '../../../provisioning/demoSite.js';
import { FakeScanner } from '../../fakes/fakeScanner.js';
import { refHasherFor } from '../../helpers/lists.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { outboxWatchingRelay } from '../../fakes/outboxWatchingRelay.js';

const logger = pino({ level: 'silent' });

describe('Lane.remoteOpen', () => {
  const tempDir = useTempDir();
  const open: Array<{ lane: Lane; db: TerminalDb; lists: ListCache }> = [];

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(Date.parse('2026-11-23T08:00:00Z'));
  });
  afterEach(async () => {
    for (const { lane, db, lists } of open.splice(0)) {
      await lane.stop();
      db.close();
      lists.close();
    }
    vi.useRealTimers();
  });

  async function rig(withPassage: boolean) {
    const dir = tempDir();
    const site = createDemoSite(dir, { people: 3 });
    const config = loadTerminalConfig(site.configFile);
    const db = openTerminalDb(config.dataDir);
    const lists = new ListCache(config.dataDir);
    const clock = new TerminalClock(db);
    const gpio = new SimGpio({ logger });
    const { relay: relay, rowsWhenRelayOn } = outboxWatchingRelay(gpio.output('relay', 4), db);
    const laneConfig: LaneConfig = config.lanes[0]!;
    const outbox = new Outbox(db, { terminalId: config.terminalId, checkpointCode: config.checkpoint.code, bootId: crypto.randomUUID() }, clock);
    const lane = new Lane({
      config: laneConfig,
      policy: config.policy,
      scopes: config.lists,
      scanner: new FakeScanner(),
      signals: laneSignals({ relay, green: gpio.output('green', 1), red: gpio.output('red', 2), buzzer: gpio.output('buzzer', 3) }, logger),
      inputs: withPassage ? { passage: gpio.input('passage', 12, { debounceMs: 0, activeLow: false }) } : {},
      outbox,
      lists,
      presence: new Presence(db, config.policy.antiPassbackWindowMs),
      clock,
      hashRef: refHasherFor(join(dir, 'keys')),
      logger,
    });
    open.push({ lane, db, lists });
    const rows = () =>
      db
        .prepare<[], { event: string; final: number }>('SELECT event, final FROM outbox ORDER BY seq')
        .all()
        .map((row) => ({ ...(JSON.parse(row.event) as ScanEvent), final: row.final }));
    return { lane, gpio, outbox, rows, rowsWhenRelayOn, pulseMs: config.policy.relayPulseMs, graceMs: config.policy.passageGraceMs };
  }

  it('records a remote-open grant before the relay moves, then pulses it', async () => {
    const r = await rig(false);
    expect(r.lane.remoteOpen()).toBeNull(); // not started: nothing recorded, nothing moved
    expect(r.rows()).toEqual([]);
    await r.lane.start();
    const event = r.lane.remoteOpen();
    expect(r.rowsWhenRelayOn).toEqual([1]);
    expect(r.rows()).toEqual([
      expect.objectContaining({
        id: event!.id,
        decision: 'granted',
        reason: 'remote-open',
        credentialType: 'none',
        credentialRef: null,
        listVersion: null,
        latencyMs: null,
        final: 1,
      }),
    ]);
    expect(r.gpio.level('relay')).toBe(1);
    await vi.advanceTimersByTimeAsync(r.pulseMs);
    expect(r.gpio.level('relay')).toBe(0);
  });

  it('at a lane with a passage sensor, waits for the sensor (or its window) before the event may leave', async () => {
    const r = await rig(true);
    await r.lane.start();
    r.lane.remoteOpen();
    expect(r.rows()[0]).toMatchObject({ reason: 'remote-open', final: 0, passed: null });
    expect(r.outbox.pendingBatch(10)).toEqual([]);
    r.gpio.press('passage');
    await vi.advanceTimersByTimeAsync(100);
    expect(r.rows()[0]).toMatchObject({ final: 1, passed: true });

    r.lane.remoteOpen();
    await vi.advanceTimersByTimeAsync(r.pulseMs + r.graceMs);
    expect(r.rows()[1]).toMatchObject({ final: 1, passed: false });
    expect(r.outbox.pendingBatch(10)).toHaveLength(2);
  });
});

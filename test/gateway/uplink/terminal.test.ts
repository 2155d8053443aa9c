import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTerminalConfig } from '../../../gateway/config.js';
import { Terminal, type LaneHardware } from '../../../gateway/terminal.js';
import { openTerminalDb } from '../../../gateway/terminalDb.js';
import type { DigitalOutput } from '../../../hardware/gpio/gpio.js';
import { laneSignals } from '../../../gateway/feedback.js';
import { SimGpio } from '../../../hardware/gpio/simGpio.js';
import type { ScanEvent } from '../../../protocol/event.js';
import { statusSchema } from '../../../protocol/messages.js';
import { commandTopic, terminalTopic } from '../../../protocol/topics.js';
import { createDemoSite } from '../../../provisioning/demoSite.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { FakeScanner } from '../../fakes/fakeScanner.js';
import { freePort } from '../../helpers/freePort.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { Observer, TestBroker } from './rig.js';

const RELAY_PULSE_MS = 200;

describe('Terminal with a central: the uplink runs beside the lanes', () => {
  const tempDir = useTempDir();
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('starts offline without waiting, connects later, and a remote open is recorded before the relay pulses', async () => {
    const dir = tempDir();
    const port = await freePort();
    const site = createDemoSite(dir, {
      people: 5,
      lanes: [{ name: 'in', direction: 'in', scanner: { type: 'sim' }, gpio: { type: 'sim', outputs: { green: 1, red: 2, relay: 4 } } }],
      policy: { relayPulseMs: RELAY_PULSE_MS },
    });
    const raw = JSON.parse(readFileSync(site.configFile, 'utf8'));
    raw.central = { url: `mqtt://127.0.0.1:${port}`, username: 'demo-gate-1', password: 'not-in-any-log', reconnectMinMs: 50, reconnectMaxMs: 200 };
    writeFileSync(site.configFile, JSON.stringify(raw));
    const config = loadTerminalConfig(site.configFile);

    // The relay is wrapped to see what the outbox held at the instant it switched on.
    const reader = () => openTerminalDb(config.dataDir, { readonly: true });
    const relayOn: Array<{ rows: number; last: ScanEvent | null }> = [];
    const log = captureLogger();
    let gpio: SimGpio | null = null;
    const terminal = new Terminal(config, {
      logger: log.logger,
      buildHardware: (lane, laneLogger): LaneHardware => {
        gpio = new SimGpio({ logger: laneLogger });
        const sim = gpio.output('relay', lane.gpio.outputs.relay!);
        const relay: DigitalOutput = {
          name: 'relay',
          write: (level) => {
            if (level === 1) {
              const db = reader();
              const rows = db.prepare<[], { event: string }>('SELECT event FROM outbox ORDER BY seq').all();
              db.close();
              const last = rows.at(-1);
              relayOn.push({ rows: rows.length, last: last ? (JSON.parse(last.event) as ScanEvent) : null });
            }
            sim.write(level);
          },
          read: () => sim.read(),
          close: () => sim.close(),
        };
        return {
          scanner: new FakeScanner(),
          gpio,
          relay,
          inputs: {},
          signals: laneSignals({ relay, green: gpio.output('green', 1), red: gpio.output('red', 2), buzzer: null }, laneLogger),
        };
      },
    });
    cleanups.push(() => terminal.stop());
    // No broker listens yet: start() must not wait for one.
    await terminal.start();
    expect(log.messages('terminal.ready')).toHaveLength(1);
    await waitFor(() => log.messages('uplink.connect-failed').length > 0, 10_000, 'first attempt failed');

    const broker = await TestBroker.start({ port });
    cleanups.push(() => broker.kill());
    const observer = await Observer.connect(broker.url);
    cleanups.push(() => observer.close());
    await waitFor(() => log.messages('uplink.connected').length === 1, 10_000, 'connected');
    await waitFor(() => broker.clients.has(config.terminalId), 10_000, 'terminal at the broker');

    const topic = (leaf: 'events' | 'status') => terminalTopic(config.checkpoint.code, config.terminalId, leaf);
    const command = {
      v: 1,
      id: crypto.randomUUID(),
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
    await observer.client.publishAsync(commandTopic(config.checkpoint.code, config.terminalId, 'open'), JSON.stringify(command), { qos: 1 });

    await waitFor(() => relayOn.length === 1, 10_000, 'relay switched on');
    expect(relayOn[0]!.rows).toBe(1);
    expect(relayOn[0]!.last).toMatchObject({ lane: 'in', decision: 'granted', reason: 'remote-open', credentialType: 'none', credentialRef: null });
    await waitFor(() => gpio?.level('relay') === 0, 10_000, 'relay pulse over');

    await waitFor(() => observer.on(topic('events')).length === 1, 10_000, 'remote-open event at the central');
    const delivered = (JSON.parse(observer.on(topic('events'))[0]!.payload) as { events: ScanEvent[] }).events;
    expect(delivered).toEqual([relayOn[0]!.last]);
    expect(log.messages('command.executed')).toEqual([expect.objectContaining({ name: 'open', id: command.id, lane: 'in' })]);

    await terminal.stop();
    await terminal.stop();
    expect(gpio!.level('relay')).toBe(0);
    // aedes acknowledges before it stores; the live copy comes after the retained one is stored
    await waitFor(() => observer.on(topic('status')).some((m) => m.payload.includes('"offline"')), 10_000, 'offline status');
    const late = await Observer.connect(broker.url, topic('status'));
    cleanups.push(() => late.close());
    await waitFor(() => late.messages.length > 0, 10_000, 'retained status');
    expect(statusSchema.parse(JSON.parse(late.messages[0]!.payload))).toMatchObject({ state: 'offline', bootId: terminal.bootId });
    // The password never reaches a log line, not even inside the broker address.
    expect(log.lines.some((line) => JSON.stringify(line).includes('not-in-any-log'))).toBe(false);
  });
});

import { open } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import type { ScanEvent } from '../../protocol/event.js';
import { createDemoSite } from '../../provisioning/demoSite.js';
import { garbageQr, someQr } from '../../provisioning/samplePeople.js';
import { QrgateProcess } from '../helpers/qrgateProcess.js';
import { checkRelay, type Boot } from '../helpers/relayCheck.js';
import { useTempDir } from '../helpers/tempDir.js';

const ROUNDS = 20;

describe('qrgate terminal killed with SIGKILL mid-stream', () => {
  const tempDir = useTempDir();
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it(`keeps every actuated decision exactly once with a sequence that never repeats, over ${ROUNDS} kills`, async () => {
    const dir = tempDir();
    const pair = await VirtualSerialPair.open();
    cleanups.push(() => pair.close());
    const site = createDemoSite(dir, {
      lanes: [
        {
          name: 'in',
          direction: 'in',
          scanner: { type: 'serial', path: pair.devicePath, suffix: '\r\n' },
          gpio: { type: 'sim', outputs: { green: 1, red: 2, buzzer: 3, relay: 4 } },
        },
      ],
      policy: { relayPulseMs: 100, debounceMs: 500 },
    });
    const imported = new QrgateProcess(['lists', 'import', '--config', site.configFile, site.listFile]);
    expect((await imported.exited).code).toBe(0);

    // A person every ~15 ms, whatever state the terminal is in: bytes wait in the pty while it is down.
    const scanner = await open(pair.scannerPath, 'w');
    cleanups.push(() => scanner.close());
    let scanning = true;
    const crowd = (async () => {
      for (let i = 0; scanning; i++) {
        const people = [...site.people, ...site.strangers];
        const text = i % 10 === 9 ? garbageQr() : someQr(people[i % people.length]!);
        await scanner.write(`${text}\r\n`);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();

    const logged: Array<{ eventId: string; seq: number; decision: string; bootId: string }> = [];
    const boots: Boot[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const terminal = new QrgateProcess(['terminal', '--config', site.configFile]);
      cleanups.push(async () => {
        terminal.kill('SIGKILL');
        await terminal.exited;
      });
      const ready = await terminal.waitForLine((l) => l.msg === 'terminal.ready');
      const bootId = ready.bootId as string;
      // kill at a different point of the stream each round
      await terminal.waitForCount('scan.decided', 1 + ((round * 7) % 23));
      terminal.kill('SIGKILL');
      expect((await terminal.exited).signal).toBe('SIGKILL');
      for (const line of terminal.linesWith('scan.decided')) {
        logged.push({ eventId: line.eventId as string, seq: line.seq as number, decision: line.decision as string, bootId });
      }
      boots.push({ proc: terminal, ended: 'SIGKILL' });
    }
    scanning = false;
    await crowd;

    const db = new Database(join(dir, 'data', 'terminal.db'), { readonly: true });
    const rows = db.prepare<[], { seq: number; id: string; event: string }>('SELECT seq, id, event FROM outbox ORDER BY seq').all();
    db.close();
    const events = rows.map((row) => JSON.parse(row.event) as ScanEvent);

    // every decision the terminal reported is stored, once, under the same sequence number
    const bySeq = new Map(events.map((e) => [e.seq, e]));
    for (const decision of logged) {
      expect(bySeq.get(decision.seq)?.id).toBe(decision.eventId);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    // sequence numbers are 1..N with no hole: a killed transaction gives its number back
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    // and across restarts they only ever went up
    const loggedSeqs = logged.map((d) => d.seq);
    expect(loggedSeqs).toEqual([...loggedSeqs].sort((a, b) => a - b));
    expect(new Set(loggedSeqs).size).toBe(loggedSeqs.length);
    expect(new Set(events.map((e) => e.bootId)).size).toBe(ROUNDS);

    // every relay pulse request served a stored grant of that run; the refusals among them none
    const relay = checkRelay(boots, { stored: events });
    expect(relay.problems).toEqual([]);
    expect(relay.pulses).toBeGreaterThan(0);
    expect(relay.refusals).toBeGreaterThan(0);
    expect(logged.length).toBeGreaterThanOrEqual(ROUNDS);
  });
});

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScanEvent } from '../../protocol/event.js';
import { seededRandom } from '../broker/store/scanEvents.js';
import { metricValue, storedEvents, type CentralApi } from '../helpers/centralApi.js';
import { createCentralSite, type CentralSite } from '../helpers/centralSite.js';
import { expectExactlyOnce, lastSeq, outboxDepth } from '../helpers/delivery.js';
import type { QrgateProcess } from '../helpers/qrgateProcess.js';
import { TcpProxy } from '../helpers/tcpProxy.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';
import { checkRelay } from '../helpers/relayCheck.js';
import { siteVisitors, startCrowd, type Crowd } from './crowd.js';
import { ChaosGate, chaosTerminal } from './rig.js';
import { eachOnceThenRandom } from './schedule.js';

/**
 * Issue 6, chaos: terminals (QRGATE_CHAOS_TERMINALS, default 2) under continuous scan load
 * (each a pty scanner fed every 20-120 ms, whatever state the terminal is in; allowed people,
 * denied members, strangers and garbage) while, in turn and at seeded random moments, a
 * terminal is SIGKILLed (and now and then stopped cleanly) and restarted, the central is
 * SIGKILLed and restarted (the broker loses every session), and the network between them,
 * a TcpProxy, is cut, stalled one or both ways, made half-open and slow; and the terminals' wall
 * clock jumps backwards and forwards (test/chaos/clockShift.mjs).
 *
 * Then, everything restored and drained: every decided event is stored exactly once at the
 * central with no sequence gap, every decision a terminal logged is the stored one, no
 * relay pulse request served anything but a stored grant, and every clean stop left the relay off.
 *
 * Every kind of trouble happens at least once a run: each once first, in a seeded order,
 * then at random; the chaos outlasts QRGATE_CHAOS_SECONDS (default 120) until each has. QRGATE_CHAOS_SEED=N runs the same
 * schedule of troubles again (the moments they hit the processes still vary with the machine).
 *
 * The sim GPIO lives in the terminal's process, so "the relay is off whenever the terminal
 * is not running" is checked where a process can see it: after every clean stop. A SIGKILL
 * cannot be caught; the summary counts the kills that caught the relay energised (a sysfs
 * line keeps that level until the next start switches it off: docs/terminal.md "Relay safety").
 */

const chaosSeconds = Number(process.env.QRGATE_CHAOS_SECONDS ?? 120);
const seed = Number(process.env.QRGATE_CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const terminalCount = Number(process.env.QRGATE_CHAOS_TERMINALS ?? 2);

type Action = 'kill-terminal' | 'stop-terminal' | 'kill-central' | 'cut' | 'stall' | 'half-open' | 'slow' | 'clock-jump';
const actions: readonly Action[] = ['kill-terminal', 'kill-terminal', 'stop-terminal', 'kill-central', 'cut', 'stall', 'half-open', 'slow', 'clock-jump'];

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** The terminal's wall clock stays within this of the real one: its list (30 days) must stay fresh. */
const MAX_CLOCK_OFFSET_MS = 2 * DAY_MS;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What one terminal decided, logged and got stored over the run. */
async function gateResult(gate: ChaosGate, api: CentralApi) {
  const decided = lastSeq(gate.terminal.dataDir);
  const stored = await storedEvents(api, gate.terminal.terminalId);
  return {
    decided,
    stored,
    bySeq: new Map<number, ScanEvent>(stored.map((e) => [e.seq, e])),
    logged: gate.boots.flatMap((b) => b.proc.linesWith('scan.decided')),
    relay: checkRelay(gate.boots, { stored }),
    byDecision: stored.reduce<Record<string, number>>((acc, e) => ({ ...acc, [`${e.decision}/${e.reason}`]: (acc[`${e.decision}/${e.reason}`] ?? 0) + 1 }), {}),
  };
}

describe('chaos: kills, restarts and a bad network under scan load', () => {
  const tempDir = useTempDir('qrgate-chaos-');
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const killOnCleanup = (proc: QrgateProcess): QrgateProcess => {
    cleanups.push(async () => {
      proc.kill('SIGKILL');
      await proc.exited;
    });
    return proc;
  };

  it(`keeps every decided event exactly once and never opens for a bad scan (${chaosSeconds} s, seed ${seed})`, async () => {
    console.info(`chaos: seed ${seed} (QRGATE_CHAOS_SEED=${seed} replays the schedule), ${chaosSeconds} s`);
    const random = seededRandom(seed);
    const between = (min: number, max: number) => min + random(max - min + 1);
    const dir = tempDir();
    const site: CentralSite = await createCentralSite(dir, 0, { people: 40, denied: 10 });

    let central = await site.startCentral();
    killOnCleanup(central.proc);
    const centrals = [central.proc];
    const proxy = await TcpProxy.start({ targetPort: central.mqttPort });
    cleanups.push(() => proxy.close());

    // The terminals' wall clock, shifted by the offset in this file (test/chaos/clockShift.mjs).
    const clockOffsetFile = join(dir, 'clock-offset-ms');
    let clockOffsetMs = 0;
    const terminalEnv = {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(join(import.meta.dirname, 'clockShift.mjs')).href}`,
      QRGATE_CLOCK_OFFSET_FILE: clockOffsetFile,
    };

    const gates: Array<{ gate: ChaosGate; crowd: Crowd }> = [];
    for (let g = 0; g < terminalCount; g++) {
      const terminal = await chaosTerminal(site, proxy, (close) => cleanups.push(close), { name: `gate-${g + 1}`, batchSize: 20 });
      const gate = new ChaosGate(terminal, terminalEnv, (close) => cleanups.push(close));
      await gate.start();
      const crowdRandom = seededRandom(seed ^ (0x5bd1e995 + g));
      const visitor = siteVisitors(site, crowdRandom);
      // 20-120 ms apart: a steady crowd, often within a 50 ms pulse (every request is checked).
      const crowd = await startCrowd(terminal.pair, () => ({ text: visitor(), pauseMs: 20 + crowdRandom(101) }));
      cleanups.push(() => crowd.stop());
      gates.push({ gate, crowd });
    }

    const counts = new Map<Action, number>();
    const nextAction = eachOnceThenRandom(actions, random);
    const kinds = new Set(actions);
    /** Events the centrals received again after storing them: the at-least-once path at work. */
    let redeliveries = 0;
    const jumps: number[] = [];
    const startedAt = Date.now();
    while (Date.now() - startedAt < chaosSeconds * 1000 || counts.size < kinds.size) {
      await sleep(between(200, 2_000)); // calm between troubles, and a varying kill point
      const action = nextAction();
      counts.set(action, (counts.get(action) ?? 0) + 1);
      switch (action) {
        case 'kill-terminal':
        case 'stop-terminal': {
          const { gate } = gates[random(gates.length)]!;
          await gate.end(action === 'kill-terminal' ? 'SIGKILL' : 'SIGTERM');
          await sleep(between(0, 1_000));
          await gate.start();
          break;
        }
        case 'kill-central': {
          redeliveries += await metricValue(central.api, 'qrgate_events_duplicate_total');
          central.proc.kill('SIGKILL');
          await central.proc.exited;
          await sleep(between(0, 2_000));
          central = await site.startCentral();
          killOnCleanup(central.proc);
          centrals.push(central.proc);
          proxy.setTarget(central.mqttPort);
          break;
        }
        case 'cut':
          proxy.cut();
          await sleep(between(300, 3_000));
          break;
        case 'stall':
          proxy.stall((['both', 'up', 'down'] as const)[random(3)]);
          // Shorter and longer than the keep-alive's 7.5 s: a hiccup, and a link given up.
          await sleep(between(500, 10_000));
          break;
        case 'half-open':
          proxy.halfOpen();
          await sleep(between(300, 3_000));
          break;
        case 'slow':
          proxy.slow({ bytesPerSecond: between(1_000, 20_000), latencyMs: between(0, 800) });
          await sleep(between(1_000, 6_000));
          break;
        case 'clock-jump': {
          // Backwards or forwards by a minute to a day; the clock stays where it jumped.
          const jumpMs = (random(2) === 0 ? -1 : 1) * between(MINUTE_MS, DAY_MS);
          clockOffsetMs = Math.max(-MAX_CLOCK_OFFSET_MS, Math.min(MAX_CLOCK_OFFSET_MS, clockOffsetMs + jumpMs));
          await writeFile(clockOffsetFile, String(clockOffsetMs));
          jumps.push(jumpMs);
          break;
        }
      }
      proxy.restore();
    }
    const chaosMs = Date.now() - startedAt;

    // Everything restored: stop the crowds, let each terminal decide what is queued and drain.
    proxy.restore();
    const drainStartedAt = Date.now();
    for (const { gate, crowd } of gates) {
      await crowd.stop();
      const { proc } = gate;
      // Polled: a drained terminal prints nothing more to wake a line-driven probe.
      await waitFor(() => outboxDepth(gate.terminal.dataDir) === 0 && proc.linesWith('uplink.connected').length > 0, 120_000, `${gate.terminal.name} drained`, 100);
      await gate.end('SIGTERM');
    }
    const drainMs = Date.now() - drainStartedAt;

    redeliveries += await metricValue(central.api, 'qrgate_events_duplicate_total');
    const results = [];
    for (const { gate, crowd } of gates) results.push({ gate, crowd, ...(await gateResult(gate, central.api)) });
    // The summary first, so a failing run says what it went through.
    const boots = results.flatMap((r) => r.gate.boots);
    console.info(
      [
        `chaos: seed ${seed}, ${gates.length} terminals, chaos ${(chaosMs / 1000).toFixed(1)} s, final drain ${(drainMs / 1000).toFixed(1)} s`,
        `  actions: ${[...counts].map(([a, n]) => `${a} ${n}`).join(', ')}`,
        `  terminal boots ${boots.length} (SIGKILL ${boots.filter((b) => b.ended === 'SIGKILL').length}, SIGTERM ${boots.filter((b) => b.ended === 'SIGTERM').length}), central boots ${centrals.length}`,
        ...results.map(
          (r) =>
            `  ${r.gate.terminal.name}: ${r.gate.boots.length} boots, scans written ${r.crowd.written()}, events decided ${r.decided}, logged ${r.logged.length}, ` +
            `stored ${r.stored.length}: ${JSON.stringify(r.byDecision)}; relay pulses ${r.relay.pulses} (rises ${r.relay.rises}), refusals checked ${r.relay.refusals}, ` +
            `kills with the relay energised ${r.relay.killedWhileOn}`,
        ),
        `  clock jumps ${jumps.map((ms) => `${ms > 0 ? '+' : ''}${(ms / MINUTE_MS).toFixed(0)} min`).join(', ') || 'none'}; events with an untrusted clock ${results.reduce((n, r) => n + r.stored.filter((e) => !e.clockTrusted).length, 0)}`,
        `  redeliveries absorbed by the central ${redeliveries}; proxy connections ${proxy.accepted}, bytes up ${proxy.bytes.up} down ${proxy.bytes.down}`,
      ].join('\n'),
    );

    // 0. The run met every kind of trouble it claims to survive.
    expect([...kinds].filter((kind) => (counts.get(kind) ?? 0) === 0), 'kinds of trouble that never happened').toEqual([]);
    for (const r of results) {
      const { terminalId, name } = r.gate.terminal;
      // 1. Exactly once, no gap: seq 1..N at the central, N the terminal's own counter.
      await expectExactlyOnce(central.api, terminalId, r.decided);
      // 2. Every decision a terminal logged is the stored one.
      for (const line of r.logged) {
        expect(r.bySeq.get(line.seq as number), `${name} seq ${String(line.seq)}`).toMatchObject({ id: line.eventId, decision: line.decision, reason: line.reason });
      }
      // 3. The terminal's time never runs backwards (docs/terminal.md "Clock"), whatever its wall clock did.
      const inSeqOrder = [...r.bySeq.values()].sort((a, b) => a.seq - b.seq);
      const backwards = inSeqOrder.filter((e, i) => i > 0 && Date.parse(e.ts) < Date.parse(inSeqOrder[i - 1]!.ts));
      expect(backwards.map((e) => `${name} seq ${e.seq} at ${e.ts} after ${inSeqOrder[e.seq - 2]?.ts} (boot ${e.bootId})`)).toEqual([]);
      // 4. The relay: only for grants, and off after every clean stop; the check saw refusals of each kind.
      expect(r.relay.problems).toEqual([]);
      for (const reason of ['denied', 'unknown', 'malformed']) expect(r.byDecision[`refused/${reason}`] ?? 0, `${name} refused/${reason}`).toBeGreaterThan(0);
      expect(r.relay.refusals).toBeGreaterThan(0);
      expect(r.relay.pulses).toBeGreaterThan(0);
      expect(r.decided).toBeGreaterThan(chaosSeconds); // the load really ran
    }
    // 5. No process crashed: every exit was ours, nothing logged an error.
    for (const proc of [...boots.map((b) => b.proc), ...centrals]) {
      expect(proc.lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
    }
  });
});

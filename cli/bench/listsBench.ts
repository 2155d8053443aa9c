import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import { cccdQr, sampleIdNumber } from '../../provisioning/samplePeople.js';
import { sampleMemberLine, writeSampleMembersCsv } from '../../provisioning/membersSample.js';
import { membersCsvHeader } from '../../broker/registry/membersCsv.js';
import { terminalNodeFlags } from '../../gateway/nodeFlags.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { BenchChild, benchRuntime, runQrgate, type ChildLogLine } from './e2e/child.js';
import type { ApplyPhases } from '../../gateway/lists/applyResult.js';
import { PeakRss } from './e2e/procStats.js';
import { percentile, round } from './stats.js';
import { centralNodeFlags } from '../../broker/nodeFlags.js';

export interface ListsBenchOptions {
  /** People in the registry, all in one scope: the size of the full list. */
  readonly members: number;
  /** People whose status changes between the first and the second release: the delta. */
  readonly changes: number;
  readonly log?: (line: string) => void;
}

export interface ListsBenchResult {
  readonly members: number;
  readonly changes: number;
  /** `qrgate members import` of the whole registry, wall time of the command. */
  readonly importMs: number;
  /** First `lists publish`: read the registry, build and sign the snapshot. */
  readonly buildSignMs: number;
  readonly snapshotBytes: number;
  /** Second `lists publish`, after the changes: diff, snapshot and delta, signed. */
  readonly republishMs: number;
  readonly deltaBytes: number;
  readonly deltaEntries: number;
  /** Terminal: verify and install the full snapshot (the apply worker's own figure). */
  readonly fullApplyMs: number;
  /** Terminal: manifest seen to snapshot installed, transfer included. */
  readonly fullSyncMs: number;
  /** Terminal: verify and install the delta. */
  readonly delta10kApplyMs: number;
  readonly deltaSyncMs: number;
  /** Where the snapshot's fullApplyMs went, ms (gateway/lists/applyResult.ts). */
  readonly fullApplyPhases: Readonly<Record<ApplyStep, number>> | null;
  /** Scans decided while a sync ran (transfer or apply), one at a time through the serial driver. */
  readonly scansDuringSync: number;
  readonly scanP50DuringSyncMs: number;
  readonly scanP99DuringSyncMs: number;
  readonly scanMaxDuringSyncMs: number;
  /** The same scans by what the terminal was doing (snapshot and delta together), and scans with no sync running. */
  readonly scanDuring: Readonly<Record<ScanPhase, ScanFigures>>;
  /**
   * The snapshot's apply, step by step (the worker's own times, placed by the terminal's log
   * clock); `queued`: from the file fetched to the apply's start (the worker starting).
   */
  readonly scanDuringSnapshotApply: Readonly<Record<ApplyStep | 'queued', ScanFigures>>;
  /** Resident set once the terminal is ready, before it connects. */
  readonly terminalRssMbAtReady: number;
  /**
   * The terminal's true peak resident set (VmHWM) while the snapshot was fetched, while it
   * was installed, and after it (the delta's sync and the idle time around it): the peak is
   * reset (`/proc/PID/clear_refs`) as each step starts and read as it ends. Where the kernel
   * does not allow the reset, the highest of samples every 50 ms (rssMethod says which).
   */
  readonly terminalRssMbDuringTransfer: number;
  readonly terminalRssMbDuringApply: number;
  readonly terminalRssMbAfterSnapshot: number;
  readonly rssMethod: 'peak' | 'sampled';
  /** Over the terminal's whole life, start-up included. */
  readonly terminalPeakRssMb: number;
  readonly centralRssMb: number;
  readonly runtime: 'node-dist' | 'tsx';
}

type ApplyStep = keyof ApplyPhases;
const applySteps: readonly ApplyStep[] = ['verifyMs', 'writeMs', 'commitMs', 'dropMs'];
type ScanPhase = 'idle' | 'transfer' | 'apply';

export interface ScanFigures {
  readonly scans: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

function scanFigures(latencies: readonly number[]): ScanFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? null : round(percentile(sorted, p)));
  return { scans: sorted.length, p50Ms: at(50), p99Ms: at(99), maxMs: sorted.length === 0 ? null : round(sorted.at(-1)!) };
}

const scope = 'bench';

/** A log line's pino `time` (epoch ms or ISO), ms. */
function logTimeMs(line: ChildLogLine): number {
  return typeof line.time === 'number' ? line.time : Date.parse(String(line.time));
}

/** Milliseconds between two log lines of one process. */
function logGapMs(from: ChildLogLine, to: ChildLogLine): number {
  return logTimeMs(to) - logTimeMs(from);
}

function isApplyPhases(value: unknown): value is Record<ApplyStep, number> {
  return typeof value === 'object' && value !== null && applySteps.every((step) => typeof (value as Record<string, unknown>)[step] === 'number');
}

/**
 * The snapshot apply's scans by the step the worker was in: the steps' times, laid back
 * from the `lists.applied` line in order (verify, write, commit, drop), say when each ran;
 * before them the job waited (`queued`: the worker starting). The log clock has
 * millisecond steps: a scan on a boundary may land in the next step.
 */
function byApplyStep(
  scans: readonly { atMs: number; phase: ScanPhase; latencyMs: number }[],
  appliedAtMs: number,
  phases: Record<ApplyStep, number> | null,
): Record<ApplyStep | 'queued', ScanFigures> {
  const buckets: readonly (ApplyStep | 'queued')[] = ['queued', ...applySteps];
  const latencies = new Map(buckets.map((bucket) => [bucket, [] as number[]]));
  if (phases) {
    let endMs = appliedAtMs - applySteps.reduce((sum, step) => sum + phases[step], 0);
    const bounds: { bucket: ApplyStep | 'queued'; endMs: number }[] = [{ bucket: 'queued', endMs }];
    for (const step of applySteps) bounds.push({ bucket: step, endMs: (endMs += phases[step]) });
    for (const scan of scans) {
      if (scan.phase !== 'apply' || scan.atMs > appliedAtMs) continue;
      latencies.get(bounds.find((bound) => scan.atMs <= bound.endMs)?.bucket ?? 'dropMs')!.push(scan.latencyMs);
    }
  }
  return Object.fromEntries(buckets.map((bucket) => [bucket, scanFigures(latencies.get(bucket)!)])) as Record<ApplyStep | 'queued', ScanFigures>;
}

/** The same people with their status flipped (allow <-> deny), details unchanged: a delta of exactly `count`. */
function writeChangesCsv(file: string, count: number): void {
  const lines = [membersCsvHeader];
  for (let i = 0; i < count; i++) {
    const line = sampleMemberLine(i, { scopes: [scope] });
    const cut = line.lastIndexOf(',');
    lines.push(`${line.slice(0, cut)},${line.slice(cut + 1) === 'allow' ? 'deny' : 'allow'}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/**
 * `qrgate bench lists`: issue 4's path at province scale, with real processes. A registry
 * of N people is imported and published; a real `qrgate central` serves the list as
 * retained chunks; a real `qrgate terminal` fetches and installs it over MQTT while scans
 * arrive one after another through its serial driver (a socat pseudo-terminal); then
 * `changes` people change status and the delta follows the same way.
 */
export async function runListsBench(options: ListsBenchOptions): Promise<ListsBenchResult> {
  const log = options.log ?? (() => {});
  const entry = process.argv[1]!;
  const dir = mkdtempSync(join(tmpdir(), 'qrgate-bench-lists-'));
  const pair = await VirtualSerialPair.open();
  const children: BenchChild[] = [];
  let scanner: FileHandle | null = null;
  try {
    const centralConfig = writeLocalCentral(dir);
    const qrgate = async (args: readonly string[]) => JSON.parse(await runQrgate(entry, [...args, '--json'])) as Record<string, unknown>;

    const membersCsv = join(dir, 'members.csv');
    await writeSampleMembersCsv(membersCsv, options.members, { scopes: [scope] });
    let started = performance.now();
    await qrgate(['members', 'import', '--central-config', centralConfig, membersCsv]);
    const importMs = performance.now() - started;
    log(`imported ${options.members} members in ${Math.round(importMs)} ms`);
    const first = await qrgate(['lists', 'publish', '--central-config', centralConfig, '--scope', scope]);
    log(`published version ${first.version}: ${first.snapshotBytes} bytes in ${first.buildSignMs} ms`);

    const central = new BenchChild(entry, ['central', '--config', centralConfig], { nodeFlags: centralNodeFlags });
    children.push(central);
    const ready = await central.waitForLine((l) => l.msg === 'central.ready', 60_000, 'central.ready');
    const mqttPort = (ready.mqtt as { port: number }).port;
    await central.waitForLine((l) => l.msg === 'lists.distributed', 120_000, 'lists.distributed');

    const { code } = await qrgate(['checkpoints', 'create', '--central-config', centralConfig, '--name', 'Bench', '--direction', 'in', '--confirm', 'auto']);
    const added = await qrgate([
      'terminals', 'add', '--central-config', centralConfig, '--checkpoint', String(code),
      '--url', `mqtt://127.0.0.1:${mqttPort}`, '--out', join(dir, 'terminal.json'), '--lists', scope,
    ]);
    const terminalConfig = String(added.config);
    const config = JSON.parse(readFileSync(terminalConfig, 'utf8'));
    config.lanes = [
      {
        name: 'in',
        direction: 'in',
        scanner: { type: 'serial', path: pair.devicePath, baudRate: 115200, suffix: '\r\n' },
        gpio: { type: 'sim', outputs: { green: 1, red: 2, buzzer: 3, relay: 4 } },
      },
    ];
    config.policy = { debounceMs: 0, relayPulseMs: 200 };
    writeFileSync(terminalConfig, JSON.stringify(config));

    const terminal = new BenchChild(entry, ['terminal', '--config', terminalConfig], { nodeFlags: terminalNodeFlags });
    children.push(terminal);
    // A scan's latency counts as "during sync" when its decision lands between the sync's
    // start and its install, in the terminal's own log order.
    let phase: ScanPhase = 'idle';
    let decided = 0;
    const scans: { atMs: number; phase: ScanPhase; latencyMs: number }[] = [];
    // The terminal's memory per step: its peak is reset as a step starts and read as it
    // ends, on the log line that says so (read here, synchronously, as the line arrives).
    // `start`: from here to the first sync, so that the whole life's peak is still known.
    const rss = { start: 0, transfer: 0, apply: 0, rest: 0 };
    const peak = new PeakRss(terminal.pid);
    let step: keyof typeof rss = 'start';
    const endStep = (): void => {
      rss[step] = Math.max(rss[step], peak.readMb() ?? 0);
    };
    const startStep = (next: keyof typeof rss): void => {
      endStep();
      step = next;
      peak.reset();
    };
    terminal.onLine((line: ChildLogLine) => {
      if (line.msg === 'lists.sync-started') {
        phase = 'transfer';
        if (step !== 'rest') startStep('transfer');
      } else if (line.msg === 'lists.fetched') {
        phase = 'apply';
        if (step !== 'rest') startStep('apply');
      } else if (line.msg === 'lists.applied') {
        phase = 'idle';
        if (step !== 'rest') startStep('rest');
      } else if (line.msg === 'scan.decided') {
        decided++;
        if (typeof line.latencyMs === 'number') scans.push({ atMs: logTimeMs(line), phase, latencyMs: line.latencyMs });
      }
    });
    await terminal.waitForLine((l) => l.msg === 'terminal.ready', 60_000, 'terminal.ready');
    const atReady = await terminal.memory();
    // Where the peak cannot be reset, samples are all there is.
    const sampler = peak.resettable
      ? null
      : setInterval(() => {
          rss[step] = Math.max(rss[step], peak.currentMb() ?? 0);
        }, 50);

    // One scan at a time, a couple of milliseconds apart: a busy gate, never a backlog.
    scanner = await open(pair.scannerPath, 'w');
    const pen = scanner;
    let scanning = true;
    const scanLoop = (async () => {
      for (let i = 0; scanning; i++) {
        const before = decided;
        await pen.write(`${cccdQr({ name: 'Nguyễn Văn Bình', idNumber: sampleIdNumber((i * 7919) % options.members), cardId: null, status: 'allow' })}\r\n`);
        await terminal.waitForLine(() => decided > before, 10_000, 'scan.decided');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    const full = await terminal.waitForLine((l) => l.msg === 'lists.applied' && l.version === 1, 600_000, 'the snapshot installed');
    const fullStarted = terminal.last('lists.sync-started')!;
    const fullSyncMs = logGapMs(fullStarted, full);
    log(`terminal installed ${full.entries} entries: apply ${full.applyMs} ms, sync ${fullSyncMs} ms`);

    const changesCsv = join(dir, 'changes.csv');
    writeChangesCsv(changesCsv, options.changes);
    await qrgate(['members', 'import', '--central-config', centralConfig, changesCsv]);
    started = performance.now();
    const second = await qrgate(['lists', 'publish', '--central-config', centralConfig, '--scope', scope]);
    const republishMs = performance.now() - started;
    log(`published version ${second.version}: delta of ${String(second.changed)} changes, ${second.deltaBytes} bytes`);
    const delta = await terminal.waitForLine((l) => l.msg === 'lists.applied' && l.version === 2, 120_000, 'the delta installed');
    const deltaStarted = terminal.last('lists.sync-started')!;
    const deltaSyncMs = logGapMs(deltaStarted, delta);
    log(`terminal applied the delta: apply ${delta.applyMs} ms, sync ${deltaSyncMs} ms`);

    scanning = false;
    await scanLoop;
    if (sampler) clearInterval(sampler);
    endStep();
    const terminalMemory = await terminal.memory();
    const centralMemory = await central.memory();
    const duringSync = scans.filter((scan) => scan.phase !== 'idle').map((scan) => scan.latencyMs);
    const sorted = [...duringSync].sort((a, b) => a - b);
    const byPhase = (wanted: ScanPhase) => scanFigures(scans.filter((scan) => scan.phase === wanted).map((scan) => scan.latencyMs));
    const fullPhases = isApplyPhases(full.phases) ? full.phases : null;
    return {
      members: options.members,
      changes: options.changes,
      importMs: Math.round(importMs),
      buildSignMs: Number(first.buildSignMs),
      snapshotBytes: Number(first.snapshotBytes),
      republishMs: Math.round(republishMs),
      deltaBytes: Number(second.deltaBytes),
      deltaEntries: Number(second.added) + Number(second.changed) + Number(second.removed),
      fullApplyMs: Number(full.applyMs),
      fullSyncMs,
      delta10kApplyMs: Number(delta.applyMs),
      deltaSyncMs,
      fullApplyPhases: fullPhases,
      scansDuringSync: sorted.length,
      scanP50DuringSyncMs: round(percentile(sorted, 50)),
      scanP99DuringSyncMs: round(percentile(sorted, 99)),
      scanMaxDuringSyncMs: round(sorted.at(-1) ?? Number.NaN),
      scanDuring: { idle: byPhase('idle'), transfer: byPhase('transfer'), apply: byPhase('apply') },
      scanDuringSnapshotApply: byApplyStep(scans, logTimeMs(full), fullPhases),
      terminalRssMbAtReady: atReady?.rssMb ?? Number.NaN,
      terminalRssMbDuringTransfer: rss.transfer,
      terminalRssMbDuringApply: rss.apply,
      terminalRssMbAfterSnapshot: rss.rest,
      rssMethod: peak.resettable ? 'peak' : 'sampled',
      // VmHWM was reset along the way: the life's peak is the highest of the steps'.
      terminalPeakRssMb: peak.resettable ? Math.max(...Object.values(rss)) : (terminalMemory?.peakRssMb ?? Number.NaN),
      centralRssMb: centralMemory?.rssMb ?? Number.NaN,
      runtime: benchRuntime(),
    };
  } finally {
    await scanner?.close();
    for (const child of children.reverse()) await child.stop();
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

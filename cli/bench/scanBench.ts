import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadTerminalConfig, type TerminalConfigInput } from '../../gateway/config.js';
import { importListFile } from '../../gateway/listImport.js';
import { terminalNodeFlags } from '../../gateway/nodeFlags.js';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import { createRefHasher } from '../../protocol/credentialRef.js';
import { generateKeyFiles, loadAuthorityPrivateKey, loadRefKey } from '../../protocol/keys.js';
import { encodeSignedList, type ListEntry } from '../../protocol/lists/index.js';
import { cccdQr, garbageQr, pcCovidQr, sampleIdNumber, type SamplePerson } from '../../provisioning/samplePeople.js';
import { benchRuntime } from './e2e/child.js';
import { percentile, processMemoryMb, round } from './stats.js';

export interface ScanBenchOptions {
  readonly entries: number;
  /** Scans sent one at a time, each waiting for its decision: the latency sample. */
  readonly latencyScans: number;
  /** Scans sent back to back: the throughput sample. */
  readonly burstScans: number;
  /** Run the terminal with `storage.powerLossSafe` (an fsync per decision). */
  readonly powerLossSafe?: boolean;
  readonly log?: (line: string) => void;
}

export interface ScanBenchResult {
  readonly listEntries: number;
  /** Scans sent in the latency sample (one at a time). */
  readonly scans: number;
  /** Of those, scans that moved an output and so have a latency (duplicates move none). */
  readonly latencySamples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly scansPerSec: number;
  /** Peak resident set of the terminal process over the whole run. */
  readonly rssMb: number;
  /** Resident set right after `terminal.ready`, before any scan. */
  readonly rssReadyMb: number;
  readonly readyMs: number;
  readonly runtime: 'node-dist' | 'tsx';
  readonly scanner: 'serial-pty';
  readonly powerLossSafe: boolean;
  readonly listBuildMs: number;
  readonly listImportMs: number;
}

function person(index: number): SamplePerson {
  return { name: 'Nguyễn Văn Bình', idNumber: sampleIdNumber(index), cardId: null, status: 'allow' };
}

/** A scan mix like a real gate's: mostly registered people, some strangers and unreadable codes. */
function scanText(i: number, entries: number): string {
  const kind = i % 20;
  if (kind === 0) return garbageQr();
  if (kind === 1) return cccdQr(person(entries + i)); // a stranger
  const registered = person((i * 7919) % entries);
  return kind % 2 === 0 ? cccdQr(registered) : pcCovidQr(registered);
}

/**
 * `qrgate bench scan`: a real terminal process with an N-entry list cached, fed over a
 * real pseudo-terminal through the serial driver, GPIO simulated. Latency is what the
 * terminal itself measures: the frame's last byte arriving to the first output write.
 */
export async function runScanBench(options: ScanBenchOptions): Promise<ScanBenchResult> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'qrgate-bench-scan-'));
  const pair = await VirtualSerialPair.open();
  try {
    const keysDir = join(dir, 'keys');
    generateKeyFiles(keysDir);
    const hashRef = createRefHasher(loadRefKey(join(keysDir, 'ref.key')));

    let started = performance.now();
    const entries = function* (): Generator<ListEntry> {
      for (let i = 0; i < options.entries; i++) {
        yield { ref: hashRef('citizen', sampleIdNumber(i)), status: i % 25 === 0 ? 'deny' : 'allow' };
      }
    };
    const now = Date.now();
    const list = encodeSignedList(
      { kind: 'snapshot', scope: 'bench', version: 1, issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 86_400_000).toISOString() },
      entries(),
      loadAuthorityPrivateKey(join(keysDir, 'authority.key')),
    );
    const listFile = join(dir, 'bench.qgl');
    writeFileSync(listFile, list);
    const listBuildMs = performance.now() - started;
    log(`built and signed a ${options.entries}-entry list in ${Math.round(listBuildMs)} ms`);

    const config: TerminalConfigInput = {
      terminalId: 'bench-1',
      checkpoint: { code: '10000000000008', name: 'Bench', confirm: 'auto' },
      dataDir: 'data',
      keys: { listPublicKeys: ['keys/authority.pub'], refKey: 'keys/ref.key' },
      lists: ['bench'],
      lanes: [
        {
          name: 'in',
          direction: 'in',
          scanner: { type: 'serial', path: pair.devicePath, baudRate: 115200, suffix: '\r\n' },
          gpio: { type: 'sim', outputs: { green: 1, red: 2, buzzer: 3, relay: 4 } },
        },
      ],
      // Every scan is a different person, so debounce never hides one.
      policy: { debounceMs: 3000, relayPulseMs: 200 },
      storage: { powerLossSafe: options.powerLossSafe ?? false },
    };
    const configFile = join(dir, 'terminal.json');
    writeFileSync(configFile, JSON.stringify(config));
    started = performance.now();
    importListFile(loadTerminalConfig(configFile), listFile);
    const listImportMs = performance.now() - started;
    log(`installed it in the terminal's cache in ${Math.round(listImportMs)} ms`);

    // The terminal runs on whatever this command runs on: `node dist/cli/main.js bench scan`
    // measures the build a device runs, `npx qrgate bench scan` the tsx development path.
    const entry = process.argv[1]!;
    const runtime = benchRuntime();
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [...terminalNodeFlags, entry, 'terminal', '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    const latencies: number[] = [];
    let readyMs = Number.NaN;
    let waiting: { count: number; done: () => void } | null = null;
    let decided = 0;
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      child.once('close', (code) => rejectReady(new Error(`terminal exited early with code ${code}`)));
      createInterface({ input: child.stdout! }).on('line', (text) => {
        const line = JSON.parse(text) as { msg: string; latencyMs?: number | null };
        if (line.msg === 'terminal.ready') {
          readyMs = performance.now() - spawnedAt;
          resolveReady();
        } else if (line.msg === 'scan.decided') {
          decided += 1;
          if (typeof line.latencyMs === 'number') latencies.push(line.latencyMs);
          if (waiting && decided >= waiting.count) waiting.done();
        }
      });
    });
    await ready;
    const atReady = await processMemoryMb(child.pid!);
    log(`terminal ready in ${Math.round(readyMs)} ms (${runtime}), ${atReady.rssMb} MB resident`);
    const untilDecided = (count: number) =>
      new Promise<void>((done) => {
        if (decided >= count) return done();
        waiting = { count, done };
      });

    // Async writes: a full pty buffer must not stop this process reading the terminal's log,
    // or both would wait on each other.
    const scanner = await open(pair.scannerPath, 'w');
    try {
      for (let i = 0; i < options.latencyScans; i++) {
        await scanner.write(`${scanText(i, options.entries)}\r\n`);
        await untilDecided(i + 1);
      }
      const latencySample = [...latencies].sort((a, b) => a - b);
      log(`latency sample: ${latencySample.length} scans`);

      const burstStart = performance.now();
      const batch = Array.from({ length: options.burstScans }, (_, i) => `${scanText(options.latencyScans + i, options.entries)}\r\n`);
      for (let i = 0; i < batch.length; i += 50) await scanner.write(batch.slice(i, i + 50).join(''));
      await untilDecided(options.latencyScans + options.burstScans);
      const burstMs = performance.now() - burstStart;
      const memory = await processMemoryMb(child.pid!);
      child.kill('SIGTERM');
      await new Promise((done) => child.once('close', done));

      return {
        listEntries: options.entries,
        scans: options.latencyScans,
        latencySamples: latencySample.length,
        p50Ms: round(percentile(latencySample, 50)),
        p99Ms: round(percentile(latencySample, 99)),
        maxMs: round(latencySample.at(-1) ?? Number.NaN),
        scansPerSec: Math.round((options.burstScans / burstMs) * 1000),
        rssMb: memory.peakRssMb,
        rssReadyMb: atReady.rssMb,
        readyMs: Math.round(readyMs),
        runtime,
        scanner: 'serial-pty',
        powerLossSafe: options.powerLossSafe ?? false,
        listBuildMs: Math.round(listBuildMs),
        listImportMs: Math.round(listImportMs),
      };
    } finally {
      await scanner.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  } finally {
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { round } from '../stats.js';

/**
 * How late a process's event loop ran, and how much CPU it used, over a stretch of a bench.
 * A PUBACK measured at the terminal includes the terminal's own loop being late (the bench's
 * clients share the 2 cores with the central), so the bench reports both sides' lag next to
 * the latency, and a reader can tell whose it was.
 */
export interface LoopSample {
  /** Event-loop delay over the stretch, ms (perf_hooks.monitorEventLoopDelay, 10 ms resolution). */
  readonly loopP50Ms: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  /** CPU time (user + system) over the stretch, ms, and its share of the wall time (1 = a whole core). */
  readonly cpuMs: number;
  readonly cpuCores: number;
}

/** Measures this process: `take()` returns the stretch since the last `take()` and starts the next. */
export class LoopProbe {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private cpu = process.cpuUsage();
  private startedMs = performance.now();

  constructor() {
    this.histogram.enable();
  }

  take(): LoopSample {
    const cpu = process.cpuUsage(this.cpu);
    const nowMs = performance.now();
    const sample = loopSample(this.histogram, (cpu.user + cpu.system) / 1000, nowMs - this.startedMs);
    this.histogram.reset();
    this.cpu = process.cpuUsage();
    this.startedMs = nowMs;
    return sample;
  }

  stop(): void {
    this.histogram.disable();
  }
}

function loopSample(histogram: IntervalHistogram, cpuMs: number, wallMs: number): LoopSample {
  const ms = (ns: number): number => (Number.isFinite(ns) ? round(ns / 1e6, 2) : 0);
  return {
    loopP50Ms: ms(histogram.percentile(50)),
    loopP99Ms: ms(histogram.percentile(99)),
    loopMaxMs: ms(histogram.max),
    cpuMs: Math.round(cpuMs),
    cpuCores: wallMs > 0 ? round(cpuMs / wallMs, 2) : 0,
  };
}

/** The log line a probed child writes on SIGUSR2: its stretch since the previous one. */
export const probeLineMsg = 'bench.loop-probe';

/**
 * Node flags that load the same probe into a child (the central) before its own code: on
 * SIGUSR2 it writes one JSON line `{"msg":"bench.loop-probe",…LoopSample}` to its stdout
 * and starts the next stretch. A data: URL, so the flag works for the build and for tsx alike.
 */
export function childProbeFlags(): string[] {
  const source = `
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeSync } from 'node:fs';
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
let cpu = process.cpuUsage();
let started = performance.now();
const ms = (ns) => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0);
process.on('SIGUSR2', () => {
  const used = process.cpuUsage(cpu);
  const now = performance.now();
  const cpuMs = (used.user + used.system) / 1000;
  writeSync(1, JSON.stringify({ msg: ${JSON.stringify(probeLineMsg)}, loopP50Ms: ms(h.percentile(50)), loopP99Ms: ms(h.percentile(99)), loopMaxMs: ms(h.max), cpuMs: Math.round(cpuMs), cpuCores: Math.round((cpuMs / (now - started)) * 100) / 100 }) + '\\n');
  h.reset();
  cpu = process.cpuUsage();
  started = now;
});
`;
  return ['--import', `data:text/javascript,${encodeURIComponent(source)}`];
}

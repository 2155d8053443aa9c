import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { processMemoryMb, statusFieldMb } from '../stats.js';

/**
 * Memory and CPU of the processes in a bench (Linux /proc). VmHWM is the peak over a
 * process's whole life, which is why a bench measures only processes it started itself
 * (a broker too: mosquittoChild.ts). CPU is what tells which process limits a run: on a
 * 2-core machine the simulated terminals compete with the broker.
 */

/**
 * The true peak resident set of a process over a span of the bench's choosing: Linux keeps
 * the peak (VmHWM) itself, and writing 5 to /proc/PID/clear_refs resets it to the current
 * resident set (proc(5)). A sampler sees only the instants it happens to look; a short
 * allocation burst between two samples is invisible to it. Synchronous, so a step can be
 * closed and the next opened on the very log line that marks the boundary.
 */
export class PeakRss {
  /** False where the kernel refuses the reset (no permission, not Linux): then only samples tell. */
  readonly resettable: boolean;

  constructor(private readonly pid: number) {
    this.resettable = this.reset();
  }

  /** Starts a new span: the peak becomes the current resident set. False if refused. */
  reset(): boolean {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      return true;
    } catch {
      return false;
    }
  }

  /** The peak since the last reset (or the process's start), MB; null once the process is gone. */
  readMb(): number | null {
    return this.field('VmHWM');
  }

  currentMb(): number | null {
    return this.field('VmRSS');
  }

  private field(name: 'VmHWM' | 'VmRSS'): number | null {
    try {
      const mb = statusFieldMb(readFileSync(`/proc/${this.pid}/status`, 'utf8'), name);
      return Number.isNaN(mb) ? null : mb;
    } catch {
      return null;
    }
  }
}

/** Samples the resident set of some processes every `intervalMs` and keeps each one's maximum. */
export class RssSampler {
  private readonly maxRssMb = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly pids: () => readonly number[],
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.sampling = this.sample();
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sampling;
    await this.sample(); // the end state counts too
  }

  /** The largest resident set seen for `pid`, MB; null if it was never sampled. */
  maxMb(pid: number | null): number | null {
    return pid === null ? null : (this.maxRssMb.get(pid) ?? null);
  }

  private async sample(): Promise<void> {
    for (const pid of this.pids()) {
      try {
        const { rssMb } = await processMemoryMb(pid);
        this.maxRssMb.set(pid, Math.max(this.maxRssMb.get(pid) ?? 0, rssMb));
      } catch {
        // the process has exited
      }
    }
  }
}

/** Linux reports /proc/PID/stat times in clock ticks: 100 per second (`getconf CLK_TCK`) on every mainstream platform. */
const clockTicksPerSec = 100;

/** User + system CPU time a process has used so far, seconds; null once it is gone. */
export async function cpuSeconds(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces:
    // state is field 3, utime 14, stime 15 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSec;
  } catch {
    return null;
  }
}

/** CPU used by some processes between `start()` and `stop()`, as a percentage of one core. */
export class CpuMeter {
  private readonly startSec = new Map<number, number | null>();
  private startedMs = 0;

  constructor(private readonly pids: readonly number[]) {}

  async start(): Promise<void> {
    this.startedMs = performance.now();
    for (const pid of this.pids) this.startSec.set(pid, await cpuSeconds(pid));
  }

  /** Percent of one core per pid (200 = two cores busy); null for a process that could not be read. */
  async stop(): Promise<Map<number, number | null>> {
    const wallSec = (performance.now() - this.startedMs) / 1000;
    const result = new Map<number, number | null>();
    for (const pid of this.pids) {
      const before = this.startSec.get(pid) ?? null;
      const after = await cpuSeconds(pid);
      result.set(pid, before === null || after === null || wallSec <= 0 ? null : Math.round(((after - before) / wallSec) * 100));
    }
    return result;
  }
}

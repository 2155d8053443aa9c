import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { processMemoryMb } from '../stats.js';

/** A JSON log line of a qrgate process (protocol/logger.ts). */
export interface ChildLogLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

/**
 * What the bench and its children run on: `node dist/cli/main.js bench …` measures the build
 * a device runs, `npx qrgate bench …` the tsx development path. The children run the bench's
 * own entry, so they run as this module does: read from its own file, which is a .ts source
 * only under tsx. (The entry's path said nothing reliable: a build copied or installed
 * outside a `dist` folder was labelled "tsx".)
 */
export function benchRuntime(moduleUrl: string = import.meta.url): 'node-dist' | 'tsx' {
  return new URL(moduleUrl).pathname.endsWith('.ts') ? 'tsx' : 'node-dist';
}

/**
 * A `qrgate` child process started with the bench's own entry. Its stdout (JSON log lines)
 * is read continuously, so a chatty child never blocks on a full pipe; stderr goes to ours.
 * `stop()` sends SIGTERM and waits, then SIGKILLs after a deadline: a bench always ends.
 */
export class BenchChild {
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly lines: ChildLogLine[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(line: ChildLogLine) => void>();
  /** Exited and every line it wrote read. */
  private closed = false;

  /** `nodeFlags` go before the entry: a terminal runs with gateway/nodeFlags.ts's, as on a device. */
  constructor(entry: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; nodeFlags?: readonly string[] } = {}) {
    this.child = spawn(process.execPath, [...(options.nodeFlags ?? []), entry, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...options.env },
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      let line: ChildLogLine;
      try {
        line = JSON.parse(text) as ChildLogLine;
      } catch {
        return; // not a log line (a stack trace on stdout): nothing to wait for
      }
      this.lines.push(line);
      for (const listener of this.listeners) listener(line);
      for (const waiter of [...this.waiters]) waiter();
    });
    // 'close', not 'exit': the process can be gone while its last log lines are still in the
    // pipe, and a bench that reads them (a final `ingest.stats`) must see them.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code) => {
        this.closed = true;
        resolve(code);
        for (const waiter of [...this.waiters]) waiter();
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Calls `listener` with every later log line, in order; returns the way to stop. */
  onLine(listener: (line: ChildLogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last line with this message, if any. */
  last(msg: string): ChildLogLine | undefined {
    return this.lines.findLast((line) => line.msg === msg);
  }

  /** Resolves with the first line `match` accepts; rejects if the child exits or `timeoutMs` passes first. */
  waitForLine(match: (line: ChildLogLine) => boolean, timeoutMs: number, what: string): Promise<ChildLogLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.lines.find(match);
        if (found) finish(() => resolve(found));
        else if (this.closed) finish(() => reject(new Error(`qrgate child exited before ${what}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${what} from the qrgate child within ${timeoutMs} ms`))), timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Current and peak (VmHWM) resident set; null once the process is gone. */
  async memory(): Promise<{ rssMb: number; peakRssMb: number } | null> {
    try {
      return await processMemoryMb(this.pid);
    } catch {
      return null;
    }
  }

  /** A crash, not a shutdown (`bench reconnect` kills the central): resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Runs a one-shot `qrgate` command (`members import`, `lists publish`, …) with the bench's
 * own entry and returns its stdout; its stderr (progress lines) goes to ours. Rejects on a
 * non-zero exit.
 */
export function runQrgate(entry: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.once('error', reject);
    // 'close': stdout read to its end, not just the process gone.
    child.once('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0) resolve(stdout);
      else reject(new Error(`qrgate ${args.slice(0, 2).join(' ')} exited with code ${code}: ${stdout.slice(-500)}`));
    });
  });
}

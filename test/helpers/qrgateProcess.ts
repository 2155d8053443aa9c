import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, inject } from 'vitest';

// The run's compiled sources (test/setup/compiledQrgate.ts) where that setup ran, else the sources under tsx.
const bin = inject('qrgateCli') ?? resolve(import.meta.dirname, '../../bin/qrgate.js');

export interface LogLine {
  readonly msg: string;
  readonly level: number;
  readonly [field: string]: unknown;
}

/**
 * A real `qrgate` process whose JSON log lines are collected as they arrive, so a test
 * can wait for a line with a deadline instead of sleeping.
 */
export class QrgateProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];

  /** `script` replaces the qrgate bin as what node runs (e.g. `['-e', code]`), for testing this helper itself. */
  constructor(args: readonly string[], options: { stdin?: 'pipe' | 'ignore'; env?: NodeJS.ProcessEnv; script?: readonly string[] } = {}) {
    this.child = spawn(process.execPath, [...(options.script ?? [bin]), ...args], {
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as LogLine);
      } catch {
        this.lines.push({ msg: '(not json)', level: 0, text });
      }
      this.notify();
    });
    createInterface({ input: this.child.stderr! }).on('line', (text) => {
      this.stderr.push(text);
      this.notify();
    });
    // 'close', not 'exit': 'exit' can fire while the last lines still sit in the pipes, and
    // a test reading the log after `exited` would miss them.
    this.exited = new Promise((done) => {
      this.child.once('close', (code, signal) => {
        done({ code, signal });
        this.notify();
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stdin(): NodeJS.WritableStream {
    return this.child.stdin!;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  linesWith(msg: string): LogLine[] {
    return this.lines.filter((line) => line.msg === msg);
  }

  /** Resolves with the first line for which `match` holds; rejects after `timeoutMs` with what was seen. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    return this.waitFor(() => this.lines.find(match), timeoutMs, 'log line');
  }

  /** Waits until `count` lines with message `msg` have arrived. */
  waitForCount(msg: string, count: number, timeoutMs = 30_000): Promise<LogLine[]> {
    return this.waitFor(
      () => {
        const found = this.linesWith(msg);
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
      `${count} × ${msg}`,
    );
  }

  waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolveWait, rejectWait) => {
      const check = (): boolean => {
        const value = probe();
        if (value === undefined) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolveWait(value);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        const tail = this.lines.slice(-10).map((l) => JSON.stringify(l)).join('\n');
        rejectWait(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${tail}\nstderr:\n${this.stderr.join('\n')}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export interface QrgateProcesses {
  /** Starts a `qrgate` process that is killed after the current test. */
  start(args: readonly string[], stdin?: 'pipe' | 'ignore'): QrgateProcess;
  /** Kills a process started elsewhere (a central from createCentralSite) after the current test too. */
  track(proc: QrgateProcess): QrgateProcess;
}

/** Processes a test starts, SIGKILLed and reaped after each test whatever its outcome. */
export function useQrgateProcesses(): QrgateProcesses {
  const running: QrgateProcess[] = [];
  afterEach(async () => {
    for (const proc of running.splice(0)) {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  });
  const track = (proc: QrgateProcess) => {
    running.push(proc);
    return proc;
  };
  return { start: (args, stdin = 'ignore') => track(new QrgateProcess(args, { stdin })), track };
}

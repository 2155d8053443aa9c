import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';

/**
 * A real pseudo-terminal pair, made by `socat -d -d pty,raw,echo=0 pty,raw,echo=0`: what
 * is written to one end comes out of the other, through the kernel's tty layer, so a
 * serial driver can be tested with the real serialport binding. With `links`, socat also
 * creates stable symlinks to the two ends (and removes them when it exits), so a new pair
 * can take the place of a killed one: a scanner unplugged and plugged back in.
 */
export interface PtyPair {
  /** The two ends: the link paths when `links` was given, else the /dev/pts paths. */
  readonly a: string;
  readonly b: string;
  /** The /dev/pts/N paths socat reported. */
  readonly ptys: readonly [string, string];
  readonly process: ChildProcess;
  /** Writes bytes to end `a` (opened once, O_NOCTTY). */
  writeA(bytes: Uint8Array | string): void;
  /** Kills socat and waits for it to exit (idempotent). */
  close(): Promise<void>;
}

export async function openPtyPair(options: { links?: readonly [string, string]; timeoutMs?: number } = {}): Promise<PtyPair> {
  const end = (link?: string): string => `pty,raw,echo=0${link ? `,link=${link}` : ''}`;
  const child = spawn('socat', ['-d', '-d', end(options.links?.[0]), end(options.links?.[1])], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ptys: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => fail(new Error(`socat did not start within ${options.timeoutMs ?? 10_000} ms:\n${stderr}`)), options.timeoutMs ?? 10_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const earlyExit = (code: number | null): void => fail(new Error(`socat exited (${code}) before the ptys were ready:\n${stderr}`));
    child.once('error', fail);
    child.once('exit', earlyExit);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr += text;
      for (const match of text.matchAll(/PTY is (\/dev\/pts\/\d+)/g)) ptys.push(match[1]!);
      // The links exist and data flows once socat enters its transfer loop.
      if (ptys.length === 2 && stderr.includes('starting data transfer loop')) {
        clearTimeout(timer);
        child.off('exit', earlyExit);
        child.off('error', fail);
        resolve();
      }
    });
  });
  const a = options.links?.[0] ?? ptys[0]!;
  const b = options.links?.[1] ?? ptys[1]!;
  let fd: number | null = null;
  let closing: Promise<void> | null = null;
  return {
    a,
    b,
    ptys: [ptys[0]!, ptys[1]!],
    process: child,
    writeA(bytes) {
      fd ??= openSync(a, constants.O_WRONLY | constants.O_NOCTTY);
      const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
      let offset = 0;
      while (offset < buffer.length) offset += writeSync(fd, buffer, offset);
    },
    close() {
      closing ??= (async () => {
        if (fd !== null) closeSync(fd);
        fd = null;
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      })();
      return closing;
    },
  };
}

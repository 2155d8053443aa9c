import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';

/**
 * Two connected pseudo-terminals made by `socat -d -d pty,raw,echo=0 pty,raw,echo=0`: a
 * stand-in for a scanner's serial cable, through the kernel's tty layer. The driver opens
 * `devicePath` with the real serialport binding; whoever plays the scanner writes to
 * `scannerPath`. Used by the serial tests and the scan benchmark (there is no real
 * scanner on CI), and handy for a technician replaying scans on a laptop.
 */
export class VirtualSerialPair {
  private fd: number | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly socat: ChildProcess,
    private readonly exited: Promise<void>,
    /** The end the scanner writes to (the link path when `links` was given). */
    readonly scannerPath: string,
    /** The end the driver opens. */
    readonly devicePath: string,
  ) {}

  /**
   * `links` gives the two ends stable names (socat `link=`, removed when socat exits), so a
   * test can tear the pair down and bring it back under the same path: a USB scanner
   * unplugged and plugged back in.
   */
  static async open(links?: { scanner: string; device: string }, timeoutMs = 10_000): Promise<VirtualSerialPair> {
    const end = (link?: string) => `pty,raw,echo=0${link ? `,link=${link}` : ''}`;
    const socat = spawn('socat', ['-d', '-d', end(links?.scanner), end(links?.device)], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
    const ptys: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socat.kill('SIGKILL');
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`socat did not start within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
      const onError = (err: Error): void => fail(new Error(`cannot start socat (apt-get install socat): ${err.message}`));
      const earlyExit = (code: number | null): void => fail(new Error(`socat exited (${code}) before the ptys were ready:\n${stderr}`));
      socat.once('error', onError);
      socat.once('exit', earlyExit);
      socat.stderr!.setEncoding('utf8');
      socat.stderr!.on('data', (text: string) => {
        stderr += text;
        for (const match of text.matchAll(/PTY is (\/dev\/pts\/\d+)/g)) ptys.push(match[1]!);
        // The links exist and bytes flow only once socat enters its transfer loop.
        if (ptys.length === 2 && stderr.includes('starting data transfer loop')) {
          clearTimeout(timer);
          socat.off('exit', earlyExit);
          socat.off('error', onError);
          resolve();
        }
      });
    });
    return new VirtualSerialPair(socat, exited, links?.scanner ?? ptys[0]!, links?.device ?? ptys[1]!);
  }

  /**
   * Writes bytes as the scanner would, synchronously (O_NOCTTY: never our controlling tty).
   * For large streams prefer an async write to `scannerPath`, so a full pty buffer cannot
   * block the writer's event loop.
   */
  write(bytes: Uint8Array | string): void {
    this.fd ??= openSync(this.scannerPath, constants.O_WRONLY | constants.O_NOCTTY);
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(this.fd, buffer, offset);
  }

  /** Pulls the cable: both ends disappear. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
      if (this.socat.exitCode === null && this.socat.signalCode === null) this.socat.kill('SIGTERM');
      await this.exited;
    })();
    return this.closing;
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Two connected pseudo-terminals made by socat: a stand-in for a scanner's serial cable.
 * The driver opens `devicePath` with the real serialport binding; whoever plays the scanner
 * writes to `scannerPath`. Used by the serial tests and the scan benchmark (no real
 * scanner on CI), and handy for a technician replaying scans on a laptop.
 */
export class VirtualSerialPair {
  private constructor(
    private readonly socat: ChildProcess,
    readonly scannerPath: string,
    readonly devicePath: string,
  ) {}

  /**
   * `links` gives the two ends stable names (socat `link=`), so a test can tear the pair
   * down and bring it back under the same path, like a USB scanner re-plugged.
   */
  static open(links?: { scanner: string; device: string }, timeoutMs = 10_000): Promise<VirtualSerialPair> {
    const end = (link?: string) => `pty,raw,echo=0${link ? `,link=${link}` : ''}`;
    const socat = spawn('socat', ['-d', '-d', end(links?.scanner), end(links?.device)], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Promise((resolve, reject) => {
      const paths: string[] = [];
      const timer = setTimeout(() => {
        socat.kill('SIGKILL');
        reject(new Error(`socat did not report two ptys within ${timeoutMs} ms`));
      }, timeoutMs);
      socat.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot start socat (apt-get install socat): ${err.message}`));
      });
      createInterface({ input: socat.stderr! }).on('line', (line) => {
        const match = /PTY is (\S+)/.exec(line);
        if (!match) return;
        paths.push(match[1]!);
        if (paths.length === 2) {
          clearTimeout(timer);
          resolve(new VirtualSerialPair(socat, links?.scanner ?? paths[0]!, links?.device ?? paths[1]!));
        }
      });
    });
  }

  /** Pulls the cable: both ends disappear. */
  close(): Promise<void> {
    if (this.socat.exitCode !== null || this.socat.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.socat.once('exit', () => resolve());
      this.socat.kill('SIGTERM');
    });
  }
}

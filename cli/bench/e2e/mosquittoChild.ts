import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A Mosquitto of the bench's own: a child process on a free loopback port with a config in
 * the bench's temp folder, stopped with the run. Its memory is then this run's and only
 * this run's: the machine's Mosquitto on 1883 may be serving others, and its peak resident
 * set may date from yesterday. Mosquitto's defaults otherwise (1,000 queued messages and 20
 * in flight per client), as an operator who installs the package gets them; no persistence,
 * the broker lives for one run.
 */
export interface MosquittoChild {
  readonly url: string;
  readonly pid: number;
  /** SIGHUP: Mosquitto reads its password and ACL files again (the `systemctl reload` an operator runs). */
  reload(): void;
  stop(): Promise<void>;
}

export interface MosquittoChildOptions {
  /**
   * mosquitto.conf lines for who may do what, such as the fragment `qrgate mosquitto-config`
   * writes (broker/mosquitto). Default: anonymous access, anyone anywhere.
   */
  readonly security?: string;
  /** Listen there instead of on a free port (a test restarting "the same" broker). */
  readonly port?: number;
}

const readyTimeoutMs = 15_000;
/** Packages put it in sbin, which is not on every user's PATH. */
const extraDirs = ['/usr/sbin', '/usr/local/sbin', '/opt/homebrew/sbin'];

/** The `mosquitto` binary on PATH or in the usual sbin folders; null when there is none. */
export function findMosquitto(path = process.env.PATH ?? ''): string | null {
  for (const dir of [...path.split(delimiter).filter(Boolean), ...extraDirs]) {
    const file = join(dir, 'mosquitto');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** Something accepts connections on this loopback port. */
function listening(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startMosquitto(dir: string, log: (line: string) => void, options: MosquittoChildOptions = {}): Promise<MosquittoChild> {
  const binary = findMosquitto();
  if (!binary) throw new Error('no mosquitto binary on PATH or in /usr/sbin (install the mosquitto package)');
  const port = options.port ?? (await freePort());
  const configFile = join(dir, 'mosquitto.conf');
  // The security lines first: `per_listener_settings` must come before any listener.
  const security = options.security ?? 'allow_anonymous true\n';
  // Started by root, Mosquitto switches to the user `mosquitto` before it reads its password
  // and ACL files, which the bench wrote 0600 as itself: it stays the bench's user instead.
  // (Ignored when the bench is not root: Mosquitto cannot switch then.)
  const user = `user ${userInfo().username}`;
  writeFileSync(configFile, [security, user, `listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'));
  const child: ChildProcess = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString('utf8')).slice(-1000)));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await closed;
    clearTimeout(timer);
  };
  const deadline = performance.now() + readyTimeoutMs;
  while (!(await listening(port))) {
    if (child.exitCode !== null || child.signalCode !== null || performance.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not come up on port ${port}: ${stderrTail.trim() || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  log(`mosquitto ${binary} (pid ${child.pid}) listening on 127.0.0.1:${port}`);
  const reload = (): void => {
    child.kill('SIGHUP');
  };
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, reload, stop };
}

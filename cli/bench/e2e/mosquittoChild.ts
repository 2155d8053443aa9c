import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
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
  stop(): Promise<void>;
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

/** `port`: listen there instead of on a free one (a test restarting "the same" broker). */
export async function startMosquitto(dir: string, log: (line: string) => void, options: { readonly port?: number } = {}): Promise<MosquittoChild> {
  const binary = findMosquitto();
  if (!binary) throw new Error('no mosquitto binary on PATH or in /usr/sbin (install the mosquitto package)');
  const port = options.port ?? (await freePort());
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(configFile, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'));
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
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop };
}

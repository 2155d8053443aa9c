import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../protocol/logger.js';

/**
 * Tells systemd how a service is doing (sd_notify): READY=1 once it has started, WATCHDOG=1
 * while its event loop turns, STOPPING=1 when it stops. A unit with `Type=notify` and
 * `WatchdogSec=` (deploy/systemd/qrgate-terminal.service) then knows when the terminal is
 * really up, and restarts one whose event loop has hung, relay and all.
 *
 * The notify socket is a Unix datagram socket, which Node cannot write to. A short-lived
 * `systemd-notify` per message is no answer: systemd drops a message whose sender has
 * exited before it was read. So one small Python process (python3 ships with Raspberry Pi
 * OS) lives beside the service for its whole life, in its cgroup (the unit says
 * `NotifyAccess=all`), and turns each line on its stdin into one datagram. It exits when the
 * service does, because its stdin closes.
 */
export interface ServiceNotifier {
  ready(): void;
  stopping(): void;
  close(): void;
}

const sender = `
import os, socket, sys
path = os.environ["NOTIFY_SOCKET"]
if path.startswith("@"):
    path = "\\0" + path[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for line in sys.stdin:
    message = line.strip()
    if message:
        try:
            sock.sendto(message.encode(), path)
        except OSError as err:
            print("systemd notify: " + str(err), file=sys.stderr, flush=True)
`;

/** Null when the service was not started by systemd with a notify socket. */
export function openServiceNotifier(env: NodeJS.ProcessEnv, logger: Logger, python = 'python3'): ServiceNotifier | null {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return null;
  let child: ChildProcess | null = spawn(python, ['-u', '-c', sender], {
    stdio: ['pipe', 'ignore', 'inherit'],
    env: { NOTIFY_SOCKET: socket, PATH: env.PATH ?? '/usr/bin:/bin' },
  });
  child.on('error', (err) => {
    logger.error({ err, python }, 'systemd.notify-unavailable');
    child = null;
  });
  child.stdin!.on('error', () => undefined); // the helper gone: the 'error' above said why
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();

  const send = (message: string): void => {
    if (child?.stdin?.writable) child.stdin.write(`${message}\n`);
  };
  // systemd's advice: ping at half the interval it expects (sd_watchdog_enabled(3)).
  const watchdogUsec = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === process.pid;
  const timer = watchdogUsec > 0 && forUs ? setInterval(() => send('WATCHDOG=1'), Math.max(100, watchdogUsec / 2000)) : null;
  timer?.unref();
  logger.info({ watchdogMs: timer ? watchdogUsec / 1000 : null }, 'systemd.notify-opened');

  return {
    ready: () => send('READY=1'),
    stopping: () => send('STOPPING=1'),
    close: () => {
      if (timer) clearInterval(timer);
      child?.stdin?.end();
      child = null;
    },
  };
}

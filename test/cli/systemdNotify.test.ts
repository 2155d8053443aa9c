import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openServiceNotifier } from '../../cli/systemdNotify.js';
import { createDemoSite } from '../../provisioning/demoSite.js';
import { captureLogger } from '../fakes/captureLogger.js';
import { QrgateProcess, useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/** A stand-in for systemd's notify socket: a Unix datagram socket whose messages socat prints. */
async function notifySocket(path: string): Promise<{ messages: () => string[]; close: () => void }> {
  const receiver = spawn('socat', ['-u', `UNIX-RECV:${path}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  receiver.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await waitFor(() => existsSync(path), 5000, 'the notify socket');
  // socat writes datagrams back to back; every message we send is KEY=VALUE with a known key.
  return { messages: () => text.match(/(READY|WATCHDOG|STOPPING)=1/g) ?? [], close: () => receiver.kill() };
}

describe('running under systemd (sd_notify)', () => {
  const tempDir = useTempDir();
  const { track } = useQrgateProcesses();
  const closing: Array<() => void> = [];
  afterEach(() => {
    for (const close of closing.splice(0)) close();
  });

  it('a terminal says READY=1 once it is ready, pings the watchdog while it runs, and STOPPING=1 on SIGTERM', async () => {
    const dir = tempDir();
    const socket = await notifySocket(join(dir, 'notify.sock'));
    closing.push(socket.close);
    const site = createDemoSite(dir);
    const terminal = track(
      new QrgateProcess(['terminal', '--config', site.configFile], { env: { NOTIFY_SOCKET: join(dir, 'notify.sock'), WATCHDOG_USEC: '400000' } }),
    );
    await terminal.waitForLine((l) => l.msg === 'terminal.ready');
    await waitFor(() => socket.messages().includes('READY=1'), 10_000, 'READY=1');
    const pings = socket.messages().filter((m) => m === 'WATCHDOG=1').length;
    await waitFor(() => socket.messages().filter((m) => m === 'WATCHDOG=1').length >= pings + 3, 10_000, 'three more watchdog pings');
    expect(socket.messages()).not.toContain('STOPPING=1');

    terminal.kill('SIGTERM');
    expect((await terminal.exited).code).toBe(0);
    await waitFor(() => socket.messages().includes('STOPPING=1'), 10_000, 'STOPPING=1');
    expect(terminal.linesWith('systemd.notify-opened')).toEqual([expect.objectContaining({ watchdogMs: 400 })]);
  });

  it('does nothing without a notify socket, and says so when it cannot reach one', async () => {
    const log = captureLogger();
    expect(openServiceNotifier({}, log.logger)).toBeNull();
    const notifier = openServiceNotifier({ NOTIFY_SOCKET: join(tempDir(), 'nobody.sock') }, log.logger, 'no-such-python-3');
    expect(notifier).not.toBeNull();
    await waitFor(() => log.messages('systemd.notify-unavailable').length === 1, 5000, 'systemd.notify-unavailable');
    notifier!.ready(); // the helper is gone: nothing to write to, and no throw
    notifier!.close();
  });
});

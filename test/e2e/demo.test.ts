import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { QrgateProcess } from '../helpers/qrgateProcess.js';
import { checkRelay } from '../helpers/relayCheck.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

const exec = promisify(execFile);

interface Stats {
  code: string;
  lastHour: number;
  byDecision: Record<string, { lastHour: number }>;
}

describe('qrgate demo (npm start)', () => {
  const tempDir = useTempDir();

  it('runs a central and three living checkpoints on embedded defaults, and stops cleanly with every relay off', async () => {
    const demo = new QrgateProcess(['demo', '--json', '--rate', '5', '--data-dir', tempDir()]);
    const ready = await demo.waitForLine((l) => l.msg === 'central.ready');
    const api = `http://127.0.0.1:${(ready.http as { port: number }).port}`;
    await demo.waitForCount('terminal.ready', 3);
    const decided = await demo.waitForCount('scan.decided', 40, 60_000);

    // the fleet is online and the central counts what the terminals decided
    const token = await waitForToken(demo);
    const terminals = await pollJson<{ terminals: Array<{ terminalId: string; online: boolean }> }>(
      token,
      `${api}/api/terminals`,
      (body) => body.terminals.filter((t) => t.online).length === 3,
    );
    expect(terminals.terminals.map((t) => t.terminalId).sort()).toEqual(['demo-gate-1', 'demo-gate-2', 'demo-gate-3']);
    const checkpointCodes = demo.linesWith('terminal.ready').map((l) => l.checkpoint as string);
    expect(new Set(checkpointCodes).size).toBe(3);
    for (const code of checkpointCodes) {
      const stats = await pollJson<Stats>(token, `${api}/api/checkpoints/${code}/stats`, (s) => s.lastHour > 0);
      const { granted, refused, duplicate } = stats.byDecision;
      expect(granted!.lastHour + refused!.lastHour + duplicate!.lastHour).toBe(stats.lastHour);
    }
    expect(decided.length).toBeGreaterThanOrEqual(40);

    // The banner's examples work as printed: run each `curl` line through a shell.
    const banner = demo.stderr.join('\n');
    const curls = banner.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('curl '));
    expect(curls.length).toBeGreaterThanOrEqual(6);
    for (const command of curls) {
      const { stdout } = await exec('sh', ['-c', `${command.replace(/^curl /, 'curl -sS --fail-with-body ')}`], { cwd: tempDir() });
      expect(() => (command.includes('/metrics') ? stdout : JSON.parse(stdout)) as unknown, command).not.toThrow();
    }
    // Without the token the API answers nobody; the public lookup gives the counts and nothing personal.
    const stats = curls.find((c) => c.includes('/api/checkpoints/'))!.split(' ').at(-1)!;
    expect((await fetch(stats)).status).toBe(401);
    const publicStats = JSON.parse((await exec('sh', ['-c', curls.find((c) => c.includes('/api/public/'))!])).stdout) as Record<string, unknown>;
    expect(Object.keys(publicStats).sort()).toEqual(['code', 'lastDay', 'lastHour', 'lastMonth', 'lastWeek', 'name']);
    // The admin's printed password logs in; a guard's too, and sees only its own checkpoint.
    const guardLine = /guard\s+(\S+) \/ (\S+)\s+\(checkpoint (\d{14})\)/.exec(banner)!;
    const login = await fetch(`${api}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: guardLine[1], password: guardLine[2] }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const seen = (await (await fetch(`${api}/api/checkpoints`, { headers: { cookie } })).json()) as { checkpoints: { code: string }[] };
    expect(seen.checkpoints.map((c) => c.code)).toEqual([guardLine[3]]);
    // Passwords and the token were shown once, on the terminal, and are in no log line.
    const logs = demo.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of [token, guardLine[2]!]) expect(logs).not.toContain(secret);

    // Every gate opened for someone and turned someone away before the demo stops.
    const terminalIds = ['demo-gate-1', 'demo-gate-2', 'demo-gate-3'];
    const of = (msg: string, terminalId: string) => demo.linesWith(msg).filter((l) => l.terminalId === terminalId);
    for (const terminalId of terminalIds) {
      await demo.waitFor(
        () => (of('relay.pulse', terminalId).length > 0 && of('scan.decided', terminalId).some((l) => l.decision !== 'granted') ? true : undefined),
        60_000,
        `${terminalId}: a relay pulse and a refusal`,
      );
    }

    demo.kill('SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
    // Each gate's relay pulsed only for its logged grants, and every relay is off after the stop.
    for (const terminalId of terminalIds) {
      const relay = checkRelay([{ proc: demo, ended: 'SIGINT' }], { terminalId });
      expect(relay.problems, terminalId).toEqual([]);
      expect(relay.pulses, `${terminalId} relay pulses`).toBeGreaterThan(0);
      expect(relay.refusals, `${terminalId} refusals`).toBeGreaterThan(0);
    }
    expect(demo.linesWith('terminal.stopped')).toHaveLength(3);
    expect(demo.linesWith('central.stopped')).toHaveLength(1);
  });
});

/** The read-only token the demo prints in its banner (stderr) once it is up. */
function waitForToken(demo: QrgateProcess): Promise<string> {
  return waitFor(() => /Read-only token: (\S+)/.exec(demo.stderr.join('\n'))?.[1], 30_000, 'the demo banner');
}

/** GETs `url` with the token until `done` holds for the body, or fails after 30 s with the last body. */
async function pollJson<T>(token: string, url: string, done: (body: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    last = await response.json();
    if (response.ok && done(last as T)) return last as T;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} never reached the expected state; last body: ${JSON.stringify(last)}`);
}

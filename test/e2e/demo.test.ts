import { describe, expect, it } from 'vitest';
import { QrgateProcess } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

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
    const terminals = await pollJson<{ terminals: Array<{ terminalId: string; online: boolean }> }>(
      `${api}/api/terminals`,
      (body) => body.terminals.filter((t) => t.online).length === 3,
    );
    expect(terminals.terminals.map((t) => t.terminalId).sort()).toEqual(['demo-gate-1', 'demo-gate-2', 'demo-gate-3']);
    const checkpointCodes = demo.linesWith('terminal.ready').map((l) => l.checkpoint as string);
    expect(new Set(checkpointCodes).size).toBe(3);
    for (const code of checkpointCodes) {
      const stats = await pollJson<Stats>(`${api}/api/checkpoints/${code}/stats`, (s) => s.lastHour > 0);
      const { granted, refused, duplicate } = stats.byDecision;
      expect(granted!.lastHour + refused!.lastHour + duplicate!.lastHour).toBe(stats.lastHour);
    }
    expect(decided.length).toBeGreaterThanOrEqual(40);

    demo.kill('SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
    const decisions = new Set(demo.linesWith('scan.decided').map((l) => l.decision));
    expect(decisions).toContain('granted');
    expect(decisions).toContain('refused');
    for (const terminalId of ['demo-gate-1', 'demo-gate-2', 'demo-gate-3']) {
      for (const lane of ['in', 'out']) {
        const relay = demo.linesWith('gpio.set').filter((l) => l.terminalId === terminalId && l.lane === lane && l.output === 'relay');
        if (relay.length > 0) expect(relay.at(-1)!.value).toBe(0);
      }
    }
    expect(demo.linesWith('terminal.stopped')).toHaveLength(3);
    expect(demo.linesWith('central.stopped')).toHaveLength(1);
  });
});

/** GETs `url` until `done` holds for the body, or fails after 30 s with the last body. */
async function pollJson<T>(url: string, done: (body: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const response = await fetch(url);
    last = await response.json();
    if (response.ok && done(last as T)) return last as T;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} never reached the expected state; last body: ${JSON.stringify(last)}`);
}

import { describe, expect, it } from 'vitest';
import { QrgateProcess } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

describe('qrgate demo (npm start)', () => {
  const tempDir = useTempDir();

  it('runs a living checkpoint on embedded defaults and stops cleanly with every relay off', async () => {
    const demo = new QrgateProcess(['demo', '--json', '--rate', '10', '--data-dir', tempDir()]);
    await demo.waitForLine((l) => l.msg === 'terminal.ready');
    const decided = await demo.waitForCount('scan.decided', 30);
    demo.kill('SIGINT');
    expect(await demo.exited).toEqual({ code: 0, signal: null });

    const decisions = new Set(decided.map((l) => l.decision));
    expect(decisions).toContain('granted');
    expect(decisions).toContain('refused');
    expect(new Set(decided.map((l) => l.lane))).toEqual(new Set(['in', 'out']));
    for (const lane of ['in', 'out']) {
      const relay = demo.linesWith('gpio.set').filter((l) => l.lane === lane && l.output === 'relay');
      if (relay.length > 0) expect(relay.at(-1)!.value).toBe(0);
    }
    expect(demo.linesWith('terminal.stopped')).toHaveLength(1);
  });
});

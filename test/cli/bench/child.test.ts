import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BenchChild, benchRuntime, runQrgate } from '../../../cli/bench/e2e/child.js';
import type { BenchPlan } from '../../../cli/bench/report/plan.js';
import { runBenches } from '../../../cli/bench/report/runBenches.js';
import { useTempDir } from '../../helpers/tempDir.js';

/**
 * A stand-in for the `qrgate` entry whose last line arrives after the process has exited:
 * it hands its stdout to a helper process that writes the line a moment later. Whoever
 * resolves on 'exit' has missed it; 'close' waits until every writer of the pipe is done,
 * which is also what makes a real child's last lines, still in the pipe at exit, count.
 */
const lateScript = `
import { spawn } from 'node:child_process';
process.stdout.write(JSON.stringify({ msg: 'first' }) + '\\n');
const late = "setTimeout(() => process.stdout.write(JSON.stringify({ msg: 'last', figure: 42 }) + '\\\\n'), 300)";
spawn(process.execPath, ['-e', late], { stdio: ['ignore', 'inherit', 'inherit'] }).unref();
`;

describe('bench child processes: read to the end of their output', () => {
  const tempDir = useTempDir();
  const lateEntry = (): string => {
    const file = join(tempDir(), 'late.mjs');
    writeFileSync(file, lateScript);
    return file;
  };

  it('runQrgate returns all of a one-shot command\'s stdout', async () => {
    const stdout = await runQrgate(lateEntry(), []);
    const last = JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as { msg: string; figure: number };
    expect(last).toMatchObject({ msg: 'last', figure: 42 });
  });

  it('a BenchChild has read its last log line by the time it has exited', async () => {
    const child = new BenchChild(lateEntry(), []);
    expect(await child.exited).toBe(0);
    expect(child.last('last')).toMatchObject({ figure: 42 });
  });

  it('the report takes a benchmark\'s result from its last line, even one written after the process exited', async () => {
    const plan: BenchPlan = { name: 'scan', title: 'late', args: [], quickArgs: [], figures: [] };
    const results = await runBenches({ plans: [plan], runs: 1, quick: false, entry: lateEntry(), log: () => {} });
    expect(results.get('scan')!.runs).toEqual([{ ok: true, result: expect.objectContaining({ msg: 'last', figure: 42 }) }]);
  });
});

describe('bench runtime label', () => {
  it('is the build for compiled JavaScript wherever it is installed, tsx for sources', () => {
    expect(benchRuntime('file:///work/qrgate/dist/cli/bench/e2e/child.js')).toBe('node-dist');
    expect(benchRuntime('file:///opt/qrgate/cli/bench/e2e/child.js')).toBe('node-dist');
    expect(benchRuntime('file:///work/qrgate/cli/bench/e2e/child.ts')).toBe('tsx');
    // This test runs the sources.
    expect(benchRuntime()).toBe('tsx');
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchPlans, type BenchName } from '../../../cli/bench/report/plan.js';
import { median, renderReport, reportEnd, reportStart, spliceReport, summarise, type MachineFacts } from '../../../cli/bench/report/render.js';
import type { BenchRuns } from '../../../cli/bench/report/runBenches.js';
import { QrgateProcess } from '../../helpers/qrgateProcess.js';
import { useTempDir } from '../../helpers/tempDir.js';

const machine: MachineFacts = { date: '2026-12-02', cpu: 'Test CPU', cores: 2, memoryGiB: 24, os: 'Linux', node: 'v20', commit: 'abc1234', command: 'qrgate bench report' };
const plan = (name: BenchName) => benchPlans.find((p) => p.name === name)!;
const ok = (result: Record<string, unknown>) => ({ ok: true as const, result });

function results(entries: Array<[BenchName, BenchRuns['runs']]>): Map<BenchName, BenchRuns> {
  return new Map(entries.map(([name, runs]) => [name, { plan: plan(name), runs }]));
}

describe('bench report: medians, targets, ratios', () => {
  it('takes medians of the runs and judges each against its target', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const summary = summarise(machine, { runsPerBench: 3, quick: false }, results([
      ['scan', [ok({ p99Ms: 0.4, rssMb: 130, readyMs: 200 }), ok({ p99Ms: 2.5, rssMb: 110, readyMs: 210 }), ok({ p99Ms: 0.5, rssMb: 125, readyMs: 190 })]],
    ]), []);
    const row = (key: string) => summary.figures.find((f) => f.key === key)!;
    expect(row('p99Ms')).toMatchObject({ median: 0.5, values: [0.4, 2.5, 0.5], kind: 'median', met: true });
    expect(row('rssMb')).toMatchObject({ median: 125, met: false });
    expect(row('p50Ms')).toMatchObject({ median: null, met: null });
    const text = renderReport(summary, new Map([['scan', 'scan path']]));
    expect(text).toContain('| figure | target | kind | median | runs | met |');
    expect(text).toContain('| p99Ms (ms) | <= 2 | median | **0.5** | 0.4 / 2.5 / 0.5 | yes |');
    expect(text).toContain('| p50Ms (ms) | — |  | n/a | — / — / — |  |');
    expect(text).toContain('- scan rssMb: median 125 MB against <= 120 (runs 130 / 110 / 125)');
    expect(text.startsWith(reportStart) && text.endsWith(reportEnd)).toBe(true);
  });

  it('compares peers on what means the same on both sides, broker and ingestion together, the right way round', () => {
    const ours = ok({ eventsPerSec: 30_000, p50Ms: 50, p99Ms: 500, brokerRssMb: 200, ingestRssMb: null, brokerCpuPct: 50, ingestCpuPct: null, lost: 0, lostAfterAck: 0, duplicated: 0 });
    const theirs = ok({ eventsPerSec: 25_000, p50Ms: 25, p99Ms: 600, brokerRssMb: 70, ingestRssMb: 130, brokerCpuPct: 10, ingestCpuPct: 40, lost: 10, lostAfterAck: 10, duplicated: 0 });
    const summary = summarise(machine, { runsPerBench: 1, quick: false }, results([['e2e', [ours]], ['e2e-mosquitto', [theirs]]]), []);
    const ratio = (key: string) => summary.ratios.find((r) => r.key === key)!;
    expect(ratio('eventsPerSec')).toMatchObject({ ratio: 1.2, better: true });
    expect(ratio('p50Ms')).toMatchObject({ ratio: 2, better: false });
    expect(ratio('centralSideRssMb')).toMatchObject({ ratio: 1, better: true });
    expect(ratio('centralSideCpuPct')).toMatchObject({ ratio: 1, better: true });
    expect(summary.ratios.map((r) => r.key)).not.toContain('brokerRssMb');
    expect(summary.figures.find((f) => f.bench === 'e2e-mosquitto' && f.key === 'lostAfterAck')).toMatchObject({ median: 10, met: false });
    const text = renderReport(summary, new Map([['e2e', 'ours'], ['e2e-mosquitto', 'theirs']]), new Map([['e2e', 'How to read it.']]));
    expect(text).toContain('| centralSideCpuPct (% of a core, broker + ingestion) | — |  | **50** | 50 |  |\n\nHow to read it.\n');
    expect(text).toContain('| e2e vs e2e-mosquitto: eventsPerSec | 1.20 | yes |');
  });

  it('a target figure that a run did not give is a miss, even when the other runs meet it', () => {
    const full = { buildSignMs: 3000, fullApplyMs: 2000, delta10kApplyMs: 200, scanP99DuringSyncMs: 1, terminalRssMbDuringApply: 130 };
    const { scanP99DuringSyncMs: _, ...withoutScan } = full;
    const { terminalRssMbDuringApply: __, ...withoutRss } = full;
    const summary = summarise(machine, { runsPerBench: 3, quick: false }, results([
      ['lists', [ok(full), ok(withoutScan), ok(withoutRss)]],
    ]), []);
    const row = (key: string) => summary.figures.find((f) => f.key === key)!;
    expect(row('scanP99DuringSyncMs')).toMatchObject({ runs: [1, null, 1], median: 1, met: false });
    expect(row('fullApplyMs')).toMatchObject({ met: true });
    const text = renderReport(summary, new Map([['lists', 'lists']]));
    expect(text).toContain('| scanP99DuringSyncMs (ms) | <= 2 | median | **1** | 1 / — / 1 | **no** |');
    expect(text).toContain('- lists scanP99DuringSyncMs: no figure in 1 of 3 run(s), against <= 2 (runs 1 / — / 1)');
    expect(text).toContain('- lists terminalRssMbDuringApply: no figure in 1 of 3 run(s)');
    expect(text).not.toContain('None.');
  });

  it('a target no run gave a figure for, or whose runs all failed, is listed as missed', () => {
    const summary = summarise(machine, { runsPerBench: 2, quick: false }, results([
      ['scan', [ok({ p50Ms: 0.1 }), ok({ p50Ms: 0.1 })]],
      ['lists', [{ ok: false, error: 'exited 1: boom' }, { ok: false, error: 'exited 1: boom' }]],
    ]), []);
    expect(summary.figures.filter((f) => f.target).every((f) => f.met === false)).toBe(true);
    const text = renderReport(summary, new Map([['scan', 'scan'], ['lists', 'lists']]));
    expect(text).toContain('| p99Ms (ms) | <= 2 | median | n/a | — / — | **no** |');
    expect(text).toContain('- scan p99Ms: no figure in 2 of 2 run(s), against <= 2 (runs — / —)');
    expect(text).toContain('- lists fullApplyMs: no figure in 2 of 2 run(s)');
  });

  it('zero-tolerance targets (lost, lostAfterAck, duplicated) hold in every run, not on the median', () => {
    const run = (lost: number, duplicated: number) => ok({ eventsPerSec: 31_000, lost, lostAfterAck: lost, duplicated });
    const summary = summarise(machine, { runsPerBench: 3, quick: false }, results([['e2e', [run(0, 0), run(12, 0), run(0, 0)]]]), []);
    const row = (key: string) => summary.figures.find((f) => f.key === key)!;
    expect(row('lost')).toMatchObject({ median: 0, kind: 'every run', met: false });
    expect(row('lostAfterAck')).toMatchObject({ median: 0, kind: 'every run', met: false });
    expect(row('duplicated')).toMatchObject({ median: 0, kind: 'every run', met: true });
    expect(row('eventsPerSec')).toMatchObject({ kind: 'median', met: true });
    const text = renderReport(summary, new Map([['e2e', 'e2e']]));
    expect(text).toContain('| lost (events) | = 0 | every run | **0** | 0 / 12 / 0 | **no** |');
    expect(text).toContain('- e2e lost: = 0 must hold in every run; missed in 1 of 3 (runs 0 / 12 / 0)');
    expect(text).toContain('| duplicated (events) | = 0 | every run | **0** | 0 / 0 / 0 | yes |');
    expect(text).not.toContain('- e2e duplicated');
  });

  it('quick mode judges nothing; failed runs and skipped benches are listed as misses', () => {
    const summary = summarise(machine, { runsPerBench: 1, quick: true }, results([['scan', [ok({ p99Ms: 9 }), { ok: false, error: 'exited 1: boom' }]]]), [
      { bench: 'e2e-mosquitto', why: 'no broker' },
    ]);
    expect(summary.figures.every((f) => f.met === null)).toBe(true);
    const text = renderReport(summary, new Map([['scan', 'scan path']]));
    expect(text).toContain('Quick mode');
    expect(text).toContain('- scan: a run failed: exited 1: boom');
    expect(text).toContain('- e2e-mosquitto: not run: no broker');
  });

  it('replaces its own section and nothing else; the first time it goes after the opening paragraph', () => {
    const doc = '# Benchmarks\n\nIntro.\n\n## Scan path\n\nAnalysis.\n';
    const first = spliceReport(doc, `${reportStart}\nA\n${reportEnd}`);
    expect(first).toBe(`# Benchmarks\n\nIntro.\n\n${reportStart}\nA\n${reportEnd}\n\n## Scan path\n\nAnalysis.\n`);
    const second = spliceReport(first, `${reportStart}\nB\n${reportEnd}`);
    expect(second).toBe(first.replace('\nA\n', '\nB\n'));
  });
});

describe('qrgate bench report, a real quick run', () => {
  const tempDir = useTempDir();

  it('runs the scan bench, writes its section into the document and keeps the rest', async () => {
    const out = join(tempDir(), 'benchmarks.md');
    writeFileSync(out, '# Benchmarks\n\nIntro.\n\n## History\n\nkept\n');
    const proc = new QrgateProcess(['bench', 'report', '--quick', '--runs', '1', '--only', 'scan', '--out', out, '--json']);
    const { code } = await proc.exited;
    expect(code, proc.stderr.join('\n')).toBe(0);
    const summary = proc.lines[0] as unknown as { figures: { key: string; median: number | null }[]; quick: boolean };
    expect(summary.quick).toBe(true);
    expect(summary.figures.find((f) => f.key === 'p99Ms')!.median).toBeGreaterThan(0);
    const written = readFileSync(out, 'utf8');
    expect(written).toContain('### scan: ');
    expect(written).toMatch(/\| p99Ms \(ms\) \| <= 2 \| median \| \*\*[\d.]+\*\* \|/);
    expect(written.endsWith('## History\n\nkept\n')).toBe(true);
  });
});

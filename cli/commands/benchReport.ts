import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { resolve } from 'node:path';
import { benchPlans, type BenchName, type BenchPlan } from '../bench/report/plan.js';
import { renderReport, spliceReport, summarise, type MachineFacts } from '../bench/report/render.js';
import { findMosquitto } from '../bench/e2e/mosquittoChild.js';
import { runBenches } from '../bench/report/runBenches.js';
import { commitStaged, stageFile } from '../../protocol/atomicFile.js';
import { countOption, parseOptions, UsageError, type Command } from '../command.js';

/**
 * `qrgate bench report` (`npm run bench`): every benchmark, at least three runs each, and the
 * "Latest report" section of docs/benchmarks.md rewritten with the machine, the date, each
 * figure against its target, the ratios against the peer measured in the same rounds, and
 * every target missed. The hand-written analysis below that section is left alone.
 */

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${sha} with uncommitted changes` : sha;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function machineFacts(command: string): MachineFacts {
  const cpu = cpus();
  return {
    date: new Date().toISOString().slice(0, 10),
    cpu: cpu[0]?.model.trim() ?? 'unknown CPU',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    commit: gitCommit(),
    command,
  };
}

export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    runs: { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs/benchmarks.md' },
    json: { type: 'boolean', default: false },
  });
  const runs = countOption(values.runs, 'runs', 3);
  const names = values.only?.split(',').map((n) => n.trim());
  const unknown = names?.filter((n) => !benchPlans.some((p) => p.name === n)) ?? [];
  if (unknown.length > 0) throw new UsageError(`--only: unknown benchmark(s) ${unknown.join(', ')}; known: ${benchPlans.map((p) => p.name).join(', ')}`);
  const log = (line: string) => ctx.stderr.write(`bench report: ${line}\n`);

  const wanted = benchPlans.filter((p) => names === undefined || names.includes(p.name));
  const skipped: { bench: BenchName; why: string }[] = [];
  const mosquitto = wanted.some((p) => p.needs === 'mosquitto') && findMosquitto() !== null;
  const plans: BenchPlan[] = wanted.filter((p) => {
    if (p.needs !== 'mosquitto' || mosquitto) return true;
    skipped.push({ bench: p.name, why: 'no mosquitto binary on PATH or in /usr/sbin (install the mosquitto package to compare)' });
    return false;
  });
  const results = await runBenches({ plans, runs, quick: values.quick, entry: process.argv[1]!, log });
  const command = `qrgate bench report${ctx.argv.length ? ` ${ctx.argv.join(' ')}` : ''}`;
  const summary = summarise(machineFacts(command), { runsPerBench: runs, quick: values.quick }, results, skipped);
  const report = renderReport(
    summary,
    new Map(plans.map((p) => [p.name, p.title])),
    new Map(plans.flatMap((p) => (p.note ? [[p.name, p.note] as const] : []))),
  );
  if (values.out !== '-') {
    const file = resolve(values.out);
    let document = '# Benchmarks\n';
    try {
      document = readFileSync(file, 'utf8');
    } catch {
      // a new file: the report is all it holds
    }
    commitStaged([stageFile(file, spliceReport(document, report))]);
    log(`wrote ${file}`);
  }
  ctx.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : `${report}\n`);
  return summary.failures.length > 0 ? 1 : 0;
};

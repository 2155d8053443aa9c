import { targetKind, type BenchName, type Figure, type Target, type TargetKind } from './plan.js';
import type { BenchRuns } from './runBenches.js';

/**
 * Medians, targets and ratios of a report's runs, and the Markdown section of
 * docs/benchmarks.md that shows them. Pure: the same runs always give the same text.
 */

export interface MachineFacts {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly commit: string;
  readonly command: string;
}

export interface FigureSummary {
  readonly bench: BenchName;
  readonly key: string;
  readonly unit: string;
  /** One per run, in run order; null where the run gave no figure (it failed, or printed none). */
  readonly runs: readonly (number | null)[];
  /** The figures the runs gave, in run order. */
  readonly values: readonly number[];
  readonly median: number | null;
  readonly target?: Target;
  /** How the target is judged: on the median, or in every run (plan.ts, targetKind). */
  readonly kind?: TargetKind;
  /** null without a target, or in quick mode. A target with a run that gave no figure is missed. */
  readonly met: boolean | null;
}

export interface Ratio {
  readonly bench: BenchName;
  readonly peer: BenchName;
  readonly key: string;
  /** Ours divided by the peer's, both medians. */
  readonly ratio: number;
  readonly better: boolean;
}

export interface ReportSummary {
  readonly machine: MachineFacts;
  readonly runsPerBench: number;
  readonly quick: boolean;
  readonly figures: readonly FigureSummary[];
  readonly ratios: readonly Ratio[];
  readonly failures: readonly { bench: BenchName; error: string }[];
  readonly skipped: readonly { bench: BenchName; why: string }[];
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function meets(value: number, target: Target): boolean {
  if (target.op === '<=') return value <= target.value;
  if (target.op === '>=') return value >= target.value;
  return value === target.value;
}

function valueOf(figure: Figure, result: Readonly<Record<string, unknown>>): number | null {
  const value = figure.derive ? figure.derive(result) : result[figure.key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function summariseFigure(bench: BenchName, figure: Figure, runs: BenchRuns, judge: boolean): FigureSummary {
  const perRun = runs.runs.map((run) => (run.ok ? valueOf(figure, run.result) : null));
  const values = perRun.filter((value): value is number => value !== null);
  const mid = median(values);
  const { target } = figure;
  const kind = target ? targetKind(target) : undefined;
  return {
    bench,
    key: figure.key,
    unit: figure.unit,
    runs: perRun,
    values,
    median: mid,
    ...(target ? { target, kind } : {}),
    met: judge && target ? judgeTarget(target, perRun) : null,
  };
}

/**
 * A target is met only when every run gave its figure (a figure a run did not print was not
 * shown to meet anything) and then, by its kind, the median or every run meets it.
 */
function judgeTarget(target: Target, perRun: readonly (number | null)[]): boolean {
  if (perRun.length === 0 || perRun.some((value) => value === null)) return false;
  const values = perRun as readonly number[];
  return targetKind(target) === 'every run' ? values.every((value) => meets(value, target)) : meets(median(values)!, target);
}

/** `quick`: the small sizes tests use; targets are for the full sizes, so none is judged. */
export function summarise(
  machine: MachineFacts,
  options: { readonly runsPerBench: number; readonly quick: boolean },
  results: ReadonlyMap<BenchName, BenchRuns>,
  skipped: ReportSummary['skipped'],
): ReportSummary {
  const figures: FigureSummary[] = [];
  const failures: { bench: BenchName; error: string }[] = [];
  for (const [name, runs] of results) {
    for (const figure of runs.plan.figures) figures.push(summariseFigure(name, figure, runs, !options.quick));
    for (const run of runs.runs) if (!run.ok) failures.push({ bench: name, error: run.error });
  }
  const ratios: Ratio[] = [];
  for (const [name, runs] of results) {
    const peer = runs.plan.peer;
    if (!peer || !results.has(peer)) continue;
    for (const figure of runs.plan.figures.filter((f) => f.compare)) {
      const ours = figures.find((f) => f.bench === name && f.key === figure.key)?.median;
      const theirs = figures.find((f) => f.bench === peer && f.key === figure.key)?.median;
      if (ours == null || theirs == null || theirs === 0) continue;
      const ratio = ours / theirs;
      ratios.push({ bench: name, peer, key: figure.key, ratio, better: figure.lowerIsBetter ? ratio <= 1 : ratio >= 1 });
    }
  }
  return { machine, runsPerBench: options.runsPerBench, quick: options.quick, figures, ratios, failures, skipped };
}

const number = (value: number): string => (Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 3 }));
const targetText = (target: Target | undefined): string => (target ? `${target.op === '==' ? '=' : target.op} ${number(target.value)}` : '—');

/** Every run's figure, "—" for a run that gave none. */
const runsText = (f: FigureSummary): string => f.runs.map((value) => (value === null ? '—' : number(value))).join(' / ');

function missText(f: FigureSummary): string {
  const absent = f.runs.filter((value) => value === null).length;
  if (absent > 0) return `no figure in ${absent} of ${f.runs.length} run(s), against ${targetText(f.target)}`;
  if (f.kind === 'every run') {
    const failing = f.values.filter((value) => !meets(value, f.target!)).length;
    return `${targetText(f.target)} must hold in every run; missed in ${failing} of ${f.runs.length}`;
  }
  return `median ${number(f.median!)} ${f.unit} against ${targetText(f.target)}`;
}

export const reportStart = '<!-- bench-report:start: written by `npm run bench` (qrgate bench report); edits between these markers are replaced -->';
export const reportEnd = '<!-- bench-report:end -->';

/** `notes`: how to read a benchmark's figures (BenchPlan.note), printed under its table. */
export function renderReport(summary: ReportSummary, titles: ReadonlyMap<BenchName, string>, notes: ReadonlyMap<BenchName, string> = new Map()): string {
  const m = summary.machine;
  const out: string[] = [
    reportStart,
    `## Latest report (${m.date})`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}. Code: ${m.commit}.`,
    `Command: \`${m.command}\`: ${summary.runsPerBench} run(s) of each benchmark, interleaved round by round; medians, with every run listed.`,
    ...(summary.quick ? ['', '**Quick mode: small sizes for a smoke test. The targets are for the full sizes and are not judged here.**'] : []),
    '',
  ];
  for (const [bench, title] of titles) {
    const rows = summary.figures.filter((f) => f.bench === bench);
    if (rows.length === 0) continue;
    out.push(`### ${bench}: ${title}`, '', '| figure | target | kind | median | runs | met |', '| --- | --- | --- | --- | --- | --- |');
    for (const f of rows) {
      const met = f.met === null ? '' : f.met ? 'yes' : '**no**';
      out.push(`| ${f.key} (${f.unit}) | ${targetText(f.target)} | ${f.kind ?? ''} | ${f.median === null ? 'n/a' : `**${number(f.median)}**`} | ${runsText(f)} | ${met} |`);
    }
    const note = notes.get(bench);
    out.push(...(note ? ['', note] : []), '');
  }
  if (summary.ratios.length > 0) {
    out.push('### Side by side', '', '| figure | ours / peer (medians) | ours better or equal |', '| --- | --- | --- |');
    for (const r of summary.ratios) out.push(`| ${r.bench} vs ${r.peer}: ${r.key} | ${r.ratio.toFixed(2)} | ${r.better ? 'yes' : 'no'} |`);
    out.push('');
  }
  const missed = summary.figures.filter((f) => f.met === false);
  out.push('### Targets missed', '');
  if (missed.length === 0 && summary.failures.length === 0) out.push('None.');
  for (const f of missed) out.push(`- ${f.bench} ${f.key}: ${missText(f)} (runs ${runsText(f)}); see its section below.`);
  for (const f of summary.failures) out.push(`- ${f.bench}: a run failed: ${f.error}`);
  for (const s of summary.skipped) out.push(`- ${s.bench}: not run: ${s.why}`);
  out.push('', reportEnd);
  return out.join('\n');
}

/** Replaces the report between the markers, or puts it after the document's opening paragraph the first time. */
export function spliceReport(document: string, report: string): string {
  const start = document.indexOf(reportStart);
  const end = document.indexOf(reportEnd);
  if (start !== -1 && end > start) return `${document.slice(0, start)}${report}${document.slice(end + reportEnd.length)}`;
  const firstSection = document.indexOf('\n## ');
  if (firstSection === -1) return `${document.trimEnd()}\n\n${report}\n`;
  return `${document.slice(0, firstSection + 1)}${report}\n\n${document.slice(firstSection + 1)}`;
}

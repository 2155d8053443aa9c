import { spawn } from 'node:child_process';
import type { BenchName, BenchPlan } from './plan.js';

/**
 * Runs the benchmarks as child processes of the same `qrgate` entry the report runs from
 * (the build on a device, `node dist/cli/main.js`), one JSON object each. Runs are
 * interleaved, round by round, so that peers measured "side by side" share the machine's
 * good and bad moments instead of one getting the quiet minutes.
 */

export type RunOutcome = { readonly ok: true; readonly result: Record<string, unknown> } | { readonly ok: false; readonly error: string };

export interface BenchRuns {
  readonly plan: BenchPlan;
  readonly runs: RunOutcome[];
}

export interface RunBenchesOptions {
  readonly plans: readonly BenchPlan[];
  readonly runs: number;
  readonly quick: boolean;
  readonly entry: string;
  readonly log: (line: string) => void;
}

function runOnce(entry: string, args: readonly string[], log: (line: string) => void): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderrTail = (stderrTail + text).slice(-2000);
      for (const line of text.split('\n')) if (line.trim()) log(`  ${line.trim()}`);
    });
    child.once('error', (err) => resolve({ ok: false, error: err.message }));
    // 'close', not 'exit': the result is the last line of stdout, and at 'exit' it may still be in the pipe.
    child.once('close', (code, signal) => {
      if (code !== 0) return resolve({ ok: false, error: `exited ${code ?? signal}: ${stderrTail.trim().split('\n').at(-1) ?? ''}` });
      try {
        resolve({ ok: true, result: JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown> });
      } catch {
        resolve({ ok: false, error: 'the bench printed no JSON result' });
      }
    });
  });
}

export async function runBenches(options: RunBenchesOptions): Promise<Map<BenchName, BenchRuns>> {
  const results = new Map<BenchName, BenchRuns>(options.plans.map((plan) => [plan.name, { plan, runs: [] }]));
  for (let round = 1; round <= options.runs; round++) {
    for (const plan of options.plans) {
      options.log(`round ${round}/${options.runs}: ${plan.name}`);
      const outcome = await runOnce(options.entry, options.quick ? plan.quickArgs : plan.args, options.log);
      if (!outcome.ok) options.log(`${plan.name} failed: ${outcome.error}`);
      results.get(plan.name)!.runs.push(outcome);
    }
  }
  return results;
}

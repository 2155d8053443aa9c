#!/usr/bin/env node
/**
 * `npm run test:mutation [module…]`: StrykerJS over each module of modules.mjs in turn (all by
 * default), then one table of scores and durations. Exits 1 if a module scores under the
 * target, so a run that lost ground says so.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mutationModules } from './modules.mjs';

const target = 85;
const root = fileURLToPath(new URL('../../', import.meta.url));
const stryker = fileURLToPath(new URL('../../node_modules/.bin/stryker', import.meta.url));

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in mutationModules));
if (unknown.length > 0) {
  console.error(`unknown module(s): ${unknown.join(', ')}; known: ${Object.keys(mutationModules).join(', ')}`);
  process.exit(2);
}
const names = requested.length > 0 ? requested : Object.keys(mutationModules);

function runStryker(name) {
  return new Promise((resolve, reject) => {
    const child = spawn(stryker, ['run'], { cwd: root, stdio: 'inherit', env: { ...process.env, QRGATE_MUTATION_MODULE: name } });
    child.on('error', reject);
    // 'close', not 'exit': the last lines of its output are ours to see before the table.
    child.on('close', (code, signal) => resolve(code === 0 ? null : `stryker exited with ${signal ?? code}`));
  });
}

/** Stryker's own counts from its JSON report (mutation-testing-report-schema). */
function tally(name) {
  const report = JSON.parse(readFileSync(new URL(`../../reports/mutation/${name}.json`, import.meta.url), 'utf8'));
  const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, CompileError: 0, RuntimeError: 0, Ignored: 0 };
  for (const file of Object.values(report.files)) for (const mutant of file.mutants) counts[mutant.status] = (counts[mutant.status] ?? 0) + 1;
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  return { files: Object.keys(report.files).length, ...counts, score: valid === 0 ? 100 : (100 * detected) / valid };
}

const rows = [];
const started = Date.now();
for (const name of names) {
  const moduleStarted = Date.now();
  const failure = await runStryker(name);
  const seconds = Math.round((Date.now() - moduleStarted) / 1000);
  rows.push(failure ? { name, failure, seconds } : { name, seconds, ...tally(name) });
}

const pad = (value, width) => String(value).padStart(width);
console.log(`\nmodule       files mutants killed timeout survived no-cov   score  time`);
for (const row of rows) {
  if (row.failure) {
    console.log(`${row.name.padEnd(12)} ${row.failure}`);
    continue;
  }
  const mutants = row.Killed + row.Timeout + row.Survived + row.NoCoverage;
  console.log(
    `${row.name.padEnd(12)} ${pad(row.files, 5)} ${pad(mutants, 7)} ${pad(row.Killed, 6)} ${pad(row.Timeout, 7)} ${pad(row.Survived, 8)} ${pad(row.NoCoverage, 6)} ${pad(row.score.toFixed(1), 6)}% ${pad(row.seconds, 4)}s`,
  );
}
console.log(`total ${Math.round((Date.now() - started) / 1000)} s; target ${target}% per module; reports in reports/mutation/`);
const short = rows.filter((row) => row.failure || row.score < target);
if (short.length > 0) {
  console.log(`under target: ${short.map((row) => row.name).join(', ')}`);
  process.exitCode = 1;
}

#!/usr/bin/env node
/**
 * `npm test`: the type-check (`npm run typecheck`) and `vitest run` side by side, failing when
 * either fails. One after the other, the type-check's minute or so on one core held up a
 * suite that itself leaves a core idle much of the time (its files wait on child processes,
 * sockets and chromium). The type-check's output is held back and printed after the suite's,
 * so the two never interleave. Arguments go to vitest (`npm test -- test/e2e`).
 */
import { spawn } from 'node:child_process';

function run(command, args, { quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const output = [];
    if (quiet) {
      child.stdout.on('data', (chunk) => output.push(chunk));
      child.stderr.on('data', (chunk) => output.push(chunk));
    }
    child.on('error', (err) => {
      output.push(Buffer.from(`${command}: ${err.message}\n`));
      resolve({ code: 1, output });
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const startedAt = Date.now();
// npm puts node_modules/.bin on PATH for its scripts: `vitest` and `tsc` resolve as in package.json.
const typecheck = run('npm', ['run', '--silent', 'typecheck'], { quiet: true }).then((result) => ({ ...result, seconds: (Date.now() - startedAt) / 1000 }));
const tests = await run('vitest', ['run', ...process.argv.slice(2)]);
const checked = await typecheck;
process.stdout.write(`\ntypecheck (tsc, run beside the tests, took ${checked.seconds.toFixed(0)} s): ${checked.code === 0 ? 'passed' : 'FAILED'}\n`);
for (const chunk of checked.output) process.stdout.write(chunk);
process.exitCode = tests.code !== 0 ? tests.code : checked.code;

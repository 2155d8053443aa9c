import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import type { TestProject } from 'vitest/node';

/**
 * Vitest global setup: the qrgate sources compiled once per run to plain JavaScript, file for
 * file (esbuild, as tsx itself transforms them, reading tsconfig.json), for the `qrgate`
 * processes the integration tests start (test/helpers/qrgateProcess.ts). bin/qrgate.js
 * registers tsx in each process, and tsx resolves and loads every module through its hook
 * thread: measured 2.7-3.6 s to print the usage at load 24, against 0.7-1.0 s for the same
 * sources compiled, and a run starts hundreds of such processes. The compiled tree is the
 * layout `npm run build` makes (cli/main.js runs itself, workers start from their .js
 * siblings), placed under node_modules/.cache so package imports and the console's
 * package-root lookup resolve as from the sources. bin/qrgate.js keeps its own tests
 * (test/cli/logFormat.test.ts, test/cli/bench/, test/gateway/lists/applyWorkerBoot.test.ts).
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** The compiled cli/main.js the integration tests run as `qrgate`; undefined where this setup is not configured (chaos, mutation). */
    qrgateCli: string | undefined;
  }
}

const repoRoot = resolve(import.meta.dirname, '../..');
/** What `npm run build` compiles (tsconfig.build.json); console/client is bundled by the central itself. */
const sourceDirs = ['protocol', 'hardware', 'gateway', 'broker', 'provisioning', 'console', 'cli'];

function sourceFiles(dir: string, into: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (relative(repoRoot, path) !== join('console', 'client')) sourceFiles(path, into);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) into.push(path);
  }
  return into;
}

export default function setup(project: TestProject): () => void {
  const cacheDir = join(repoRoot, 'node_modules', '.cache', 'qrgate-test-build');
  mkdirSync(cacheDir, { recursive: true });
  // A run stopped before its teardown leaves its folder; a day later nobody runs from it.
  for (const old of readdirSync(cacheDir)) {
    const path = join(cacheDir, old);
    if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
  }
  // One folder per run: two runs in one checkout never compile over each other.
  const outdir = mkdtempSync(join(cacheDir, 'run-'));
  buildSync({
    entryPoints: sourceDirs.flatMap((dir) => sourceFiles(join(repoRoot, dir))),
    outdir,
    outbase: repoRoot,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  writeFileSync(join(outdir, 'package.json'), '{"type":"module"}\n');
  project.provide('qrgateCli', join(outdir, 'cli', 'main.js'));
  return () => rmSync(outdir, { recursive: true, force: true });
}

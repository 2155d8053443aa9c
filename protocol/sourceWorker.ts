import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { buildSync } from 'esbuild';

/**
 * A raw Worker is loaded by Node itself: no vitest transform, and in Node 20 no module hooks
 * registered in the main thread (bin/qrgate.js registers tsx there). So the worker starts
 * from this plain script, which registers tsx in the worker only when the entry is a .ts
 * source; the compiled build (dist/, .js) loads with no loader at all. It runs as CommonJS,
 * or as ESM when the process runs with --input-type=module (a worker inherits execArgv): so
 * no require and no top-level await.
 */
const bootstrap = `
(async () => {
  const { workerData } = await import('node:worker_threads');
  if (workerData.sourceMaps) process.setSourceMapsEnabled(true);
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  await import(workerData.entry);
})();
`;

/** What the bootstrap reads from workerData besides the worker's own data. */
export interface SourceWorkerEntry {
  readonly entry: string;
  readonly tsxApi: string | null;
  /** The entry is a bundle with an inline source map: stack traces then name the .ts sources. */
  readonly sourceMaps: boolean;
}

/**
 * `entryName` beside `callerUrl` (pass `import.meta.url`): the compiled .js file in the
 * build; from sources, the .ts entry bundled to one .mjs file (see bundledSource), or, where
 * that cannot be written, the .ts source itself with tsx registered in the worker.
 */
export function sourceWorkerEntry(callerUrl: string, entryName: string): SourceWorkerEntry {
  const fromSources = new URL(callerUrl).pathname.endsWith('.ts');
  const entry = new URL(`./${entryName}${fromSources ? '.ts' : '.js'}`, callerUrl).href;
  if (!fromSources) return { entry, tsxApi: null, sourceMaps: false };
  const bundle = bundledSource(fileURLToPath(entry), entryName);
  if (bundle !== null) return { entry: bundle, tsxApi: null, sourceMaps: true };
  return { entry, tsxApi: import.meta.resolve('tsx/esm/api'), sourceMaps: false };
}

/** Bundle file URL by entry source path, for the life of this process. */
const bundles = new Map<string, string | null>();

/**
 * Registering tsx in a worker starts its own loader thread and transforms module after
 * module: ~1 s per worker on a quiet machine, 2–4 s under load, paid on every store, list
 * apply and list publish thread. One esbuild bundle of the entry's own sources (packages
 * stay imports) is made once per process and then loads as plain JavaScript. It is written
 * under node_modules/.cache so the bundle's package imports resolve as the sources' do;
 * its name is its content's hash, so processes sharing the folder never see a stale or a
 * half-written one. Null when it cannot be made: the caller falls back to tsx.
 */
function bundledSource(entryPath: string, entryName: string): string | null {
  const known = bundles.get(entryPath);
  if (known !== undefined) return known;
  let url: string | null = null;
  try {
    const nodeModules = nearestNodeModules(dirname(entryPath));
    if (nodeModules !== null) {
      const built = buildSync({
        entryPoints: [entryPath],
        bundle: true,
        packages: 'external',
        format: 'esm',
        platform: 'node',
        target: 'node20',
        sourcemap: 'inline',
        write: false,
        logLevel: 'silent',
      });
      const text = built.outputFiles[0]!.text;
      const dir = join(nodeModules, '.cache', 'qrgate-workers');
      const file = join(dir, `${entryName}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`);
      if (!existsSync(file)) {
        mkdirSync(dir, { recursive: true });
        const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
        writeFileSync(partial, text);
        renameSync(partial, file);
      }
      url = pathToFileURL(file).href;
    }
  } catch {
    url = null;
  }
  bundles.set(entryPath, url);
  return url;
}

function nearestNodeModules(from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules');
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Starts the module `entryName` (a sibling of `callerUrl`) in a worker thread, from sources
 * or from the build alike. `workerData` must be an object: the entry's location is added to it.
 */
export function startSourceWorker<Data extends object>(
  callerUrl: string,
  entryName: string,
  options: Omit<WorkerOptions, 'eval' | 'workerData'> & { readonly workerData: Data },
): Worker {
  const workerData: Data & SourceWorkerEntry = { ...options.workerData, ...sourceWorkerEntry(callerUrl, entryName) };
  return new Worker(bootstrap, { ...options, eval: true, workerData });
}

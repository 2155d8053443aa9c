import { Worker, type WorkerOptions } from 'node:worker_threads';

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
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  await import(workerData.entry);
})();
`;

/** What the bootstrap reads from workerData besides the worker's own data. */
export interface SourceWorkerEntry {
  readonly entry: string;
  readonly tsxApi: string | null;
}

/**
 * `entryName` beside `callerUrl` (pass `import.meta.url`): the .ts source under tsx and
 * vitest, the .js file in the compiled build.
 */
export function sourceWorkerEntry(callerUrl: string, entryName: string): SourceWorkerEntry {
  const fromSources = new URL(callerUrl).pathname.endsWith('.ts');
  const entry = new URL(`./${entryName}${fromSources ? '.ts' : '.js'}`, callerUrl).href;
  return { entry, tsxApi: fromSources ? import.meta.resolve('tsx/esm/api') : null };
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

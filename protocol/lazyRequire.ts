import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on first use instead of at start. For packages only a rare
 * path needs (image codecs, the pretty log printer): every module loaded at start delays
 * a restarted central's first login (docs/benchmarks.md, "Reconnect storm"). Synchronous,
 * unlike `import()`, so a synchronous caller stays synchronous.
 */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}

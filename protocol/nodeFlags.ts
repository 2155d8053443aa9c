import type { Logger } from './logger.js';

/**
 * V8 flags a qrgate process is meant to run with. V8 sizes its heap when the isolate starts
 * (`v8.setFlagsFromString` comes too late), so they must be on the command line or in
 * NODE_OPTIONS; a process started without them works the same, and says so once
 * (`terminal.node-flags-missing`, `central.node-flags-missing`).
 */

/** The flags of `wanted` this process was not started with (`_` and `-` read alike, as node does). */
export function missingNodeFlags(wanted: readonly string[], execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((flag) => flag.replaceAll('_', '-')));
  return wanted.filter((flag) => !given.has(flag));
}

/** One warning line naming the flags of `wanted` this process lacks: worth a line, not a refusal. */
export function warnMissingNodeFlags(logger: Logger, wanted: readonly string[], msg: `${string}.node-flags-missing`): void {
  const missing = missingNodeFlags(wanted);
  if (missing.length > 0) logger.warn({ missing }, msg);
}

import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CliContext {
  /** Arguments after the command words, e.g. for `qrgate keys generate --out k` it is `['--out', 'k']`. */
  readonly argv: readonly string[];
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Where `--password-stdin` reads from; process.stdin when absent (tests pass their own). */
  readonly stdin?: NodeJS.ReadableStream;
}

/** A command resolves to the process exit code. */
export type Command = (ctx: CliContext) => Promise<number>;

/** Wrong or missing arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  readonly code = 'usage';
}

/** Parses options strictly; unknown or malformed options become a UsageError naming them. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function requireOption(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`missing --${name}`);
  return value;
}

/** A whole-number option such as `--members 1000000`: the fallback when absent, a UsageError below `min`. */
export function countOption(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number of at least ${min}`);
  return n;
}

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { nearest } from './nearest.js';

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

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/**
 * `--help` or `-h` among a command's arguments. Thrown by parseOptions, where every command
 * declares its options, so the dispatcher (cli/main.ts) prints help from the options the
 * command really parses rather than from a second list that could drift from them.
 */
export class HelpRequest extends Error {
  readonly code = 'help';
  constructor(readonly options: OptionSpecs) {
    super('help requested');
  }
}

/** `--help` or `-h` before a `--` (after it, words are positionals by convention). */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/**
 * Parses options strictly; unknown or malformed options become a UsageError naming them,
 * with the nearest real option when the unknown one looks like a typo of it.
 * Throws HelpRequest when help was asked for, before anything else is looked at.
 */
export function parseOptions<T extends OptionSpecs>(argv: readonly string[], options: T, allowPositionals = false) {
  if (asksForHelp(argv)) throw new HelpRequest(options);
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(unknownOptionMessage(argv, options));
    throw new UsageError((err as Error).message);
  }
}

function unknownOptionMessage(argv: readonly string[], options: OptionSpecs): string {
  // A lenient second pass for the unknown option's name as data: node's error has it only inside its prose.
  const { tokens } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: false, tokens: true });
  const unknown = tokens.find((token) => token.kind === 'option' && !Object.hasOwn(options, token.name));
  if (unknown?.kind !== 'option') return 'unknown option';
  const guess = unknown.rawName.startsWith('--') ? nearest(unknown.name, Object.keys(options)) : undefined;
  return `unknown option ${unknown.rawName}${guess === undefined ? '' : `; did you mean --${guess}?`}`;
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

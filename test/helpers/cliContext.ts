import { PassThrough } from 'node:stream';

/** A CliContext whose stdout and stderr are collected, for calling a command's `run` in-process. */
export function cliContext(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  return { ctx: { argv, stdout, stderr }, out: () => out.join(''), err: () => err.join('') };
}

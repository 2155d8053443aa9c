import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A real pino logger writing JSON lines into memory, so tests read what operators would see. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: LogLine[]; messages: (msg: string) => LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  // pino writes synchronously to a plain Writable's write(): lines are there when the call returns.
  const logger = pino({ level }, stream);
  return { logger, lines, messages: (msg) => lines.filter((l) => l.msg === msg) };
}

export const silentLogger = (): Logger => pino({ level: 'silent' });

import { pino, type DestinationStream, type Logger } from 'pino';
import type pinoPrettyModule from 'pino-pretty';
import { HeldLogDestination } from './heldLogLines.js';
import { lazyRequire } from './lazyRequire.js';

/** Only `--log-format pretty` needs it: a service (JSON) does not load it at start. */
const pinoPretty = lazyRequire<typeof pinoPrettyModule>('pino-pretty');

export type { Logger };

/** `json`: one JSON object a line, for journald, files and tools. `pretty`: one readable line an event, for a person. */
export const logFormats = ['json', 'pretty'] as const;
export type LogFormat = (typeof logFormats)[number];

export class LogFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogFormatError';
  }
}

/**
 * What a long-running command prints, as zigbee2mqtt does: `--log-format` first, then
 * QRGATE_LOG_FORMAT, then the place the lines go: readable at a terminal, JSON when stdout
 * is a pipe, a file or journald, where a machine reads them.
 */
export function chooseLogFormat(inputs: { readonly flag?: string | undefined; readonly env?: string | undefined; readonly isTTY: boolean }): LogFormat {
  const asked: ReadonlyArray<readonly [string | undefined, string]> = [
    [inputs.flag, '--log-format'],
    [inputs.env, 'QRGATE_LOG_FORMAT'],
  ];
  for (const [value, where] of asked) {
    if (value === undefined || value === '') continue;
    const format = logFormats.find((f) => f === value);
    if (!format) throw new LogFormatError(`${where} must be ${logFormats.join(' or ')}, got "${value}"`);
    return format;
  }
  return inputs.isTTY ? 'pretty' : 'json';
}

/** The format for stdout when the command was given no flag: the environment, else whether stdout is a terminal. */
export function stdoutLogFormat(flag?: string): LogFormat {
  return chooseLogFormat({ flag, env: process.env.QRGATE_LOG_FORMAT, isTTY: process.stdout.isTTY === true });
}

/**
 * Secrets are replaced before a line is written (STYLE.md: zigbee2mqtt's HIDDEN, pino's
 * redact). Raw ID numbers never reach a logger in the first place: credentials are
 * logged by type and keyed ref only.
 */
const redactPaths = ['password', '*.password', 'central.password', 'secret', '*.secret', 'token', '*.token', 'key', '*.key'];

export interface LoggerOptions {
  readonly level?: string;
  /** Fixed context on every line, e.g. `{ terminalId }`. */
  readonly base?: Record<string, unknown>;
  /** Defaults to stdout. Tests pass a stream to read lines back. */
  readonly destination?: DestinationStream;
  /**
   * For stdout only (a given destination gets JSON): defaults to stdoutLogFormat(), so a
   * command without a --log-format option still follows QRGATE_LOG_FORMAT and the TTY.
   */
  readonly format?: LogFormat;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  // Synchronous writes: a line about an actuated decision is out of the process before
  // the next scan, so even a SIGKILL leaves the log consistent with the outbox. A lane
  // holds a decision's lines until its gate has moved and writes them in one go
  // (heldLogLines.ts): still before the next scan.
  const destination = new HeldLogDestination(options.destination ?? stdoutDestination(options.format ?? stdoutLogFormat()));
  return pino(
    {
      level: options.level ?? process.env.QRGATE_LOG_LEVEL ?? 'info',
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: 'HIDDEN' },
    },
    destination,
  );
}

function stdoutDestination(format: LogFormat): DestinationStream {
  if (format === 'json') return pino.destination({ dest: 1, sync: true });
  // In this thread and synchronous, like the JSON path (not a worker transport): a line is
  // on screen before the next scan, and a crash loses none.
  return pinoPretty()({
    destination: 1,
    sync: true,
    colorize: process.stdout.isTTY === true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,eventId,bootId',
  });
}

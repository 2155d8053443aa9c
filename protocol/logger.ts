import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

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
}

export function createLogger(options: LoggerOptions = {}): Logger {
  // Synchronous writes: a line about an actuated decision is out of the process before
  // the next scan, so even a SIGKILL leaves the log consistent with the outbox.
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
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

import { LogFormatError, stdoutLogFormat, type LogFormat } from '../protocol/logger.js';
import { UsageError } from './command.js';

/** The option every long-running command takes (demo, central, terminal, ingest). */
export const logFormatOption = { 'log-format': { type: 'string' } } as const;

/** The format for this command's stdout; a wrong value is a usage error, before anything starts. */
export function logFormatFrom(values: { readonly 'log-format'?: string | undefined }): LogFormat {
  try {
    return stdoutLogFormat(values['log-format']);
  } catch (err) {
    if (err instanceof LogFormatError) throw new UsageError(err.message);
    throw err;
  }
}

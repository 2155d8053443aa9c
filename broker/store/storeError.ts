/**
 * Refusals and failures every CentralStore implementation reports the same way, so callers
 * (the CLI, the HTTP API, the contract suite) tell them apart by `code`, never by message
 * or by driver-specific error numbers.
 */
export type StoreErrorCode =
  /** createCheckpoint: the code is already registered. */
  | 'checkpoint-exists'
  /** addTerminal: the checkpoint is not registered. */
  | 'checkpoint-unknown'
  /** updateCheckpoint: the checkpoint was retired and is kept as it was. */
  | 'checkpoint-retired'
  /** addTerminal: the terminal id is taken (removed terminals keep theirs: their events still name it). */
  | 'terminal-exists'
  /** queueCommand: a command with this id is queued already. */
  | 'command-exists'
  /** searchEvents: the cursor is not one this store handed out. */
  | 'cursor-invalid'
  /** searchEvents: a limit or time bound outside what the interface allows. */
  | 'query-invalid'
  /** A method was called before migrate() or after close(). */
  | 'store-closed'
  /** The database was written by a newer qrgate; refusing beats corrupting it. */
  | 'schema-too-new';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}

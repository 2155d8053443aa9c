import { commitStaged, discardStaged, stageFile } from '../../protocol/atomicFile.js';
import { parseCheckpointCode } from '../../protocol/checkpointCode.js';
import type { CentralStore, Checkpoint } from '../store/centralStore.js';

/**
 * What every terminal operation at the central shares, whether a technician runs it from the
 * CLI or an admin from the API: its refusals, the checkpoint a terminal may serve, and the
 * staged write of a file that holds a secret.
 */

export type TerminalProvisioningProblem =
  | 'checkpoint-unknown'
  | 'checkpoint-retired'
  | 'invalid-terminal-id'
  | 'terminal-exists'
  | 'terminal-unknown'
  | 'terminal-removed'
  | 'invalid-config'
  | 'out-exists'
  | 'keys-conflict'
  | 'write-failed';

export class TerminalProvisioningError extends Error {
  constructor(
    readonly code: TerminalProvisioningProblem,
    message: string,
  ) {
    super(message);
    this.name = 'TerminalProvisioningError';
  }
}

/** The checkpoint a new terminal will serve: registered here and not retired. */
export async function openCheckpoint(store: Pick<CentralStore, 'getCheckpoint'>, input: string): Promise<Checkpoint> {
  const code = parseCheckpointCode(input); // a typo is refused with its own message (CheckpointCodeError)
  const checkpoint = await store.getCheckpoint(code);
  if (checkpoint === null) throw new TerminalProvisioningError('checkpoint-unknown', `checkpoint ${code} is not registered at this central`);
  if (checkpoint.retiredAt !== null) throw new TerminalProvisioningError('checkpoint-retired', `checkpoint ${code} was retired on ${checkpoint.retiredAt}`);
  return checkpoint;
}

/**
 * Staged (0600, fsynced), then `commit()`, then renamed: no config exists for a terminal the
 * central does not know. A file-system failure becomes `write-failed` naming the file;
 * whatever `commit()` throws (a store refusal with its own code) passes through as it is.
 */
export async function writeSecretFile(file: string, data: string | Buffer, commit: () => Promise<void>): Promise<void> {
  const onDisk = <T>(step: () => T): T => {
    try {
      return step();
    } catch (err) {
      throw new TerminalProvisioningError('write-failed', `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const staged = onDisk(() => stageFile(file, data, 0o600));
  try {
    await commit();
    onDisk(() => commitStaged([staged]));
  } finally {
    discardStaged([staged]);
  }
}

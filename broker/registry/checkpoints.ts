import { generateCheckpointCode, parseCheckpointCode } from '../../protocol/checkpointCode.js';
import type { Checkpoint, CentralStore, CheckpointChanges, CheckpointDetails, CheckpointDirection } from '../store/centralStore.js';
import { checkCheckpointFields, type confirmModes } from './checkpointFields.js';

export { checkpointDirections, confirmModes } from './checkpointFields.js';

/**
 * `qrgate checkpoints create | update | retire`. A new checkpoint gets a random code (Damm
 * check digit, protocol/checkpointCode.ts) drawn from 9 x 10^12 values, so a collision is
 * rare; it is retried, never reported as a failure. Fields are checked by
 * checkpointFields.ts before anything is written.
 */

export interface NewCheckpoint extends Partial<CheckpointDetails> {
  readonly name: string;
  readonly direction: CheckpointDirection;
  readonly confirm: (typeof confirmModes)[number];
}

export class CheckpointProvisioningError extends Error {
  constructor(
    readonly code: 'no-free-code' | 'checkpoint-unknown' | 'checkpoint-retired',
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointProvisioningError';
  }
}

const maxAttempts = 10;

export async function createCheckpoint(
  store: Pick<CentralStore, 'getCheckpoint' | 'createCheckpoint'>,
  input: NewCheckpoint,
  generateCode: () => string = generateCheckpointCode,
): Promise<Checkpoint> {
  const fields = checkCheckpointFields({ ...input });
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const code = generateCode();
    if ((await store.getCheckpoint(code)) !== null) continue;
    try {
      return await store.createCheckpoint({ ...input, ...fields, code });
    } catch (err) {
      // Another process took the code between the check and the insert.
      if ((err as { code?: unknown }).code === 'checkpoint-exists') continue;
      throw err;
    }
  }
  throw new CheckpointProvisioningError('no-free-code', `no unused checkpoint code after ${maxAttempts} attempts`);
}

/** The registered, not retired checkpoint behind a typed code; a typo is refused by CheckpointCodeError. */
async function liveCheckpoint(store: Pick<CentralStore, 'getCheckpoint'>, input: string): Promise<Checkpoint> {
  const code = parseCheckpointCode(input);
  const checkpoint = await store.getCheckpoint(code);
  if (checkpoint === null) throw new CheckpointProvisioningError('checkpoint-unknown', `checkpoint ${code} is not registered at this central`);
  if (checkpoint.retiredAt !== null) throw new CheckpointProvisioningError('checkpoint-retired', `checkpoint ${code} was retired on ${checkpoint.retiredAt}`);
  return checkpoint;
}

/** Changes the given fields only; returns the checkpoint before and after. */
export async function updateCheckpoint(
  store: Pick<CentralStore, 'getCheckpoint' | 'updateCheckpoint'>,
  codeInput: string,
  changes: Record<string, unknown>,
): Promise<{ readonly before: Checkpoint; readonly after: Checkpoint }> {
  const before = await liveCheckpoint(store, codeInput);
  const checked: CheckpointChanges = checkCheckpointFields(changes, before);
  const after = await store.updateCheckpoint(before.code, checked);
  // Gone between the read and the write: only a hand-edited database does that.
  if (after === null) throw new CheckpointProvisioningError('checkpoint-unknown', `checkpoint ${before.code} is not registered at this central`);
  return { before, after };
}

/**
 * Retires a checkpoint for good: its terminals are refused at CONNECT and cut off if
 * connected (broker/auth/revocationWatcher.ts); its events and statistics stay.
 */
export async function retireCheckpoint(store: Pick<CentralStore, 'getCheckpoint' | 'retireCheckpoint'>, codeInput: string): Promise<Checkpoint> {
  const checkpoint = await liveCheckpoint(store, codeInput);
  await store.retireCheckpoint(checkpoint.code); // false only if retired meanwhile: the outcome is the same
  return (await store.getCheckpoint(checkpoint.code))!;
}

import { generateCheckpointCode } from '../protocol/checkpointCode.js';
import type { Checkpoint, CentralStore, CheckpointDirection } from '../broker/store/centralStore.js';

/**
 * `qrgate checkpoints create`: registers a checkpoint under a new random code (Damm check
 * digit, protocol/checkpointCode.ts). Codes are drawn from 9 x 10^12 values, so a collision
 * is rare; it is retried, never reported as a failure.
 */

export const checkpointDirections = ['in', 'out', 'both'] as const satisfies readonly CheckpointDirection[];
export const confirmModes = ['auto', 'manual'] as const;

export interface NewCheckpoint {
  readonly name: string;
  readonly direction: CheckpointDirection;
  readonly confirm: (typeof confirmModes)[number];
}

export class CheckpointProvisioningError extends Error {
  constructor(
    readonly code: 'invalid-name' | 'no-free-code',
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointProvisioningError';
  }
}

/** Same bound as a terminal config's `checkpoint.name` (gateway/config.ts). */
const maxNameLength = 200;
const maxAttempts = 10;

export async function createCheckpoint(
  store: Pick<CentralStore, 'getCheckpoint' | 'createCheckpoint'>,
  input: NewCheckpoint,
  generateCode: () => string = generateCheckpointCode,
): Promise<Checkpoint> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > maxNameLength) {
    throw new CheckpointProvisioningError('invalid-name', `checkpoint name must be 1 to ${maxNameLength} characters, got ${name.length}`);
  }
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const code = generateCode();
    if ((await store.getCheckpoint(code)) !== null) continue;
    try {
      return await store.createCheckpoint({ code, name, direction: input.direction, confirm: input.confirm });
    } catch (err) {
      // Another process took the code between the check and the insert.
      if ((err as { code?: unknown }).code === 'checkpoint-exists') continue;
      throw err;
    }
  }
  throw new CheckpointProvisioningError('no-free-code', `no unused checkpoint code after ${maxAttempts} attempts`);
}

import { seesCheckpoint, type Principal } from '../../access/roles.js';
import type { Checkpoint, CentralStore } from '../../store/centralStore.js';
import { forbidden, notFound } from '../http.js';

/**
 * The checkpoints a principal may see events at: undefined for all (admin), else the codes
 * (a manager's unit's checkpoints, a guard's own). Read per request: a checkpoint moved to
 * another unit leaves the old manager's view at once.
 */
export async function visibleCheckpointCodes(store: Pick<CentralStore, 'listCheckpoints'>, principal: Principal): Promise<string[] | undefined> {
  if (principal.role === 'admin' || principal.role === 'inspector') return undefined;
  return (await store.listCheckpoints()).filter((checkpoint) => seesCheckpoint(principal, checkpoint)).map((checkpoint) => checkpoint.code);
}

/** The registered checkpoint if the principal may see it: 404 when unknown, 403 when it is another's. */
export async function checkpointInScope(store: Pick<CentralStore, 'getCheckpoint'>, principal: Principal, code: string): Promise<Checkpoint> {
  const checkpoint = await store.getCheckpoint(code);
  if (checkpoint === null) throw notFound(`checkpoint ${code} is not registered`);
  if (!seesCheckpoint(principal, checkpoint)) throw forbidden(outOfScope(principal, code));
  return checkpoint;
}

export function outOfScope(principal: Principal, code: string): string {
  return principal.role === 'manager' ? `checkpoint ${code} belongs to another unit than ${principal.unit}` : `checkpoint ${code} is not one of your checkpoints`;
}

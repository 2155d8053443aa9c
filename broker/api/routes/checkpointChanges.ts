import { z } from 'zod';
import { parseCheckpointCode } from '../../../protocol/checkpointCode.js';
import { createCheckpoint, retireCheckpoint, updateCheckpoint, type NewCheckpoint } from '../../registry/checkpoints.js';
import { CheckpointFieldsError } from '../../registry/checkpointFields.js';
import { auditFacts, checkpointChanges } from '../../access/auditFacts.js';
import { managesCheckpoint, unitSchema, type Principal } from '../../access/roles.js';
import type { Checkpoint } from '../../store/centralStore.js';
import { badRequest, forbidden, notFound } from '../http.js';
import { noParameters, parseBody } from '../query.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { recordFact } from './auditFact.js';

/**
 * `POST /api/checkpoints`, `PATCH /api/checkpoints/{code}`, `POST /api/checkpoints/{code}/retire`:
 * the CLI's `checkpoints create | update | retire` (broker/registry/checkpoints.ts) for admins
 * and for a unit's manager, within its unit. The bodies are typed here; what the values
 * may be is checkCheckpointFields' to say, so both front doors refuse the same things.
 */

const fields = {
  name: z.string(),
  unit: z.string(),
  direction: z.string(),
  confirm: z.string(),
  latitude: z.number().nullable(),
  longitude: z.number().nullable(),
  branch: z.boolean(),
};
const createSchema = z.strictObject(fields).partial({ unit: true, latitude: true, longitude: true, branch: true });
const updateSchema = z
  .strictObject(fields)
  .partial()
  .refine((changes) => Object.keys(changes).length > 0, { message: 'nothing to change: give at least one of name, unit, direction, confirm, latitude and longitude, branch' });
const bodyLimit = 16 * 1024;

/** checkCheckpointFields' refusal in the shape of every other 400: `field: problem; …`. */
async function fieldsChecked<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof CheckpointFieldsError) throw badRequest(err.problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    throw err;
  }
}

/** A manager names no unit but its own (compared as units are stored for users); admins name any. */
export function checkUnitFor(principal: Principal, unit: string | undefined, doing: string): void {
  if (principal.role !== 'manager' || unit === undefined) return;
  const named = unitSchema.safeParse(unit);
  if (!named.success || named.data !== principal.unit) throw forbidden(`a manager of ${principal.unit} cannot ${doing} another unit`);
}

/** The checkpoint behind `{code}` if the principal may change it: 400 for a typo, 404 unknown, 403 another unit's. */
export async function managedCheckpoint(deps: Pick<RouteDeps, 'store'>, principal: Principal, input: string | undefined): Promise<Checkpoint> {
  const code = parseCheckpointCode(input ?? '');
  const checkpoint = await deps.store.getCheckpoint(code);
  if (checkpoint === null) throw notFound(`checkpoint ${code} is not registered`);
  if (!managesCheckpoint(principal, checkpoint)) throw forbidden(`checkpoint ${code} belongs to another unit than ${principal.unit}`);
  return checkpoint;
}

export function checkpointChangeRoutes(deps: Pick<RouteDeps, 'store' | 'logger'>): ProtectedRoute[] {
  const access = only('admin', 'manager');
  return [
    {
      method: 'POST',
      path: '/api/checkpoints',
      access,
      bodyLimit,
      async handle(request) {
        const { principal, query, body } = request;
        const input = parseBody(body, createSchema);
        checkUnitFor(principal, input.unit, 'create a checkpoint in');
        const unit = principal.role === 'manager' ? principal.unit! : input.unit;
        const checkpoint = await fieldsChecked(() => createCheckpoint(deps.store, { ...input, ...(unit === undefined ? {} : { unit }) } as NewCheckpoint));
        recordFact(request, deps.logger, auditFacts.checkpointCreated(checkpoint));
        return { status: 201, json: { checkpoint } };
      },
    },
    {
      method: 'PATCH',
      path: '/api/checkpoints/{code}',
      access,
      bodyLimit,
      async handle(request) {
        const { principal, params, query, body } = request;
        const changes = parseBody(body, updateSchema);
        const current = await managedCheckpoint(deps, principal, params.code);
        checkUnitFor(principal, changes.unit, 'move a checkpoint to');
        const { before, after } = await fieldsChecked(() => updateCheckpoint(deps.store, current.code, changes));
        recordFact(request, deps.logger, auditFacts.checkpointUpdated(before, after));
        return { status: 200, json: { checkpoint: after, changed: Object.keys(checkpointChanges(before, after)) } };
      },
    },
    {
      method: 'POST',
      path: '/api/checkpoints/{code}/retire',
      access,
      bodyLimit,
      async handle(request) {
        const { principal, params, query, body } = request;
        parseBody(body, noParameters);
        const current = await managedCheckpoint(deps, principal, params.code);
        const checkpoint = await retireCheckpoint(deps.store, current.code);
        recordFact(request, deps.logger, auditFacts.checkpointRetired(checkpoint));
        return { status: 200, json: { checkpoint } };
      },
    },
  ];
}

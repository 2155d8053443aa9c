import { seesCheckpoint } from '../../access/roles.js';
import { everyRole, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';

/**
 * `GET /api/checkpoints`: the checkpoints the caller may see (all for admins and
 * inspectors, the unit's for a manager, a guard's own) with what the operator set (name,
 * unit, direction, confirmation, position, branch flag) and when it was created and
 * retired; retired ones are included, since their events and statistics stay.
 */
export function checkpointsRoute(deps: Pick<RouteDeps, 'store'>): ProtectedRoute {
  return {
    path: '/api/checkpoints',
    access: everyRole,
    async handle({ principal }) {
      const checkpoints = (await deps.store.listCheckpoints()).filter((checkpoint) => seesCheckpoint(principal, checkpoint));
      return { status: 200, json: { checkpoints } };
    },
  };
}

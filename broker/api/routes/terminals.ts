import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { visibleCheckpointCodes } from './scope.js';

/**
 * `GET /api/terminals`: the fleet — online, last seen, telemetry (list versions, outbox
 * depth), gaps. A manager sees the terminals at the unit's checkpoints, a guard those at
 * its own; inspectors see counts only.
 */
export function terminalsRoute(deps: Pick<RouteDeps, 'store'>): ProtectedRoute {
  return {
    path: '/api/terminals',
    access: only('admin', 'manager', 'guard'),
    async handle({ principal }) {
      const visible = await visibleCheckpointCodes(deps.store, principal);
      const terminals = (await deps.store.fleet()).filter((terminal) => visible === undefined || visible.includes(terminal.checkpointCode));
      return { status: 200, json: { terminals } };
    },
  };
}

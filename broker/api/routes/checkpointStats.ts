import { checkpointCodeSchema } from '../../../protocol/checkpointCode.js';
import { badRequest, notFound } from '../http.js';
import { zodReason } from '../query.js';
import { everyRole, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { checkpointInScope } from './scope.js';

/** `GET /api/checkpoints/{code}/stats`: scan counts for the last hour, day, week and 30 days, by decision. */
export function checkpointStatsRoute(deps: Pick<RouteDeps, 'store' | 'now'>): ProtectedRoute {
  return {
    path: '/api/checkpoints/{code}/stats',
    access: everyRole,
    async handle({ params, principal }) {
      const code = checkpointCodeSchema.safeParse(params.code);
      if (!code.success) throw badRequest(zodReason(code.error, 'code'));
      await checkpointInScope(deps.store, principal, code.data);
      const stats = await deps.store.checkpointStats(code.data, deps.now());
      if (stats === null) throw notFound(`checkpoint ${code.data} is not registered`);
      return { status: 200, json: stats };
    },
  };
}

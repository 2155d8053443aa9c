import { checkpointCodeSchema } from '../../../protocol/checkpointCode.js';
import type { CentralStore } from '../../store/centralStore.js';
import { badRequest, notFound } from '../http.js';
import { noParameters, parseQuery, zodReason } from '../query.js';
import type { Route } from '../router.js';

/** `GET /api/checkpoints/{code}/stats`: scan counts for the last hour, day, week and 30 days. */
export function checkpointStatsRoute(deps: { readonly store: CentralStore; readonly now: () => number }): Route {
  return {
    path: '/api/checkpoints/{code}/stats',
    async handle({ params, query }) {
      const code = checkpointCodeSchema.safeParse(params.code);
      if (!code.success) throw badRequest(zodReason(code.error, 'code'));
      parseQuery(query, noParameters);
      const stats = await deps.store.checkpointStats(code.data, deps.now());
      if (stats === null) throw notFound(`checkpoint ${code.data} is not registered`);
      return { status: 200, json: stats };
    },
  };
}

import { checkpointCodeSchema } from '../../../protocol/checkpointCode.js';
import { badRequest, notFound } from '../http.js';
import { zodReason } from '../query.js';
import type { Route } from '../route.js';
import type { RouteDeps } from './deps.js';

/**
 * `GET /api/public/checkpoints/{code}/stats`, open to anyone (an inspector at the gate with
 * a phone): the checkpoint's name and its four counts, nothing else — no unit, no decision
 * split, no position. Rate-limited per address, so it cannot be used to walk the code space.
 * A mistyped code gets the same message the CLI gives (protocol/checkpointCode.ts).
 */
export function publicStatsRoute(deps: Pick<RouteDeps, 'store' | 'now' | 'config'>): Route {
  return {
    path: '/api/public/checkpoints/{code}/stats',
    access: 'public',
    rateLimitPerMinute: deps.config.http.publicLookupsPerMinute,
    async handle({ params }) {
      const code = checkpointCodeSchema.safeParse(params.code);
      if (!code.success) throw badRequest(zodReason(code.error, 'code'));
      const stats = await deps.store.checkpointStats(code.data, deps.now());
      if (stats === null) throw notFound(`checkpoint ${code.data} is not registered`);
      const { name, lastHour, lastDay, lastWeek, lastMonth } = stats;
      return { status: 200, json: { code: code.data, name, lastHour, lastDay, lastWeek, lastMonth } };
    },
  };
}

import type { Route } from '../route.js';
import type { RouteDeps } from './deps.js';

/** Any primary-key lookup proves the database answers; this code is valid and never issued (it starts with 0). */
const probeCode = '00000000000000';

/**
 * `GET /healthz`, open to anyone: 200 `{ok: true}` while the store answers a trivial query,
 * 503 otherwise, so a supervisor or load balancer can act. Query parameters are ignored
 * (probes add some). It says nothing else.
 */
export function healthRoute(deps: Pick<RouteDeps, 'store' | 'logger'>): Route {
  return {
    path: '/healthz',
    readsQuery: true,
    access: 'public',
    async handle() {
      try {
        await deps.store.getCheckpoint(probeCode);
        return { status: 200, json: { ok: true } };
      } catch (err) {
        deps.logger.warn({ err }, 'api.health-failed');
        return { status: 503, json: { ok: false, error: 'unavailable', reason: 'the store does not answer' } };
      }
    },
  };
}

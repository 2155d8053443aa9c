import type { CentralStore } from '../../store/centralStore.js';
import { noParameters, parseQuery } from '../query.js';
import type { Route } from '../router.js';

/** `GET /api/terminals`: the fleet — online, last seen, telemetry (list versions, outbox depth), gaps. */
export function terminalsRoute(deps: { readonly store: CentralStore }): Route {
  return {
    path: '/api/terminals',
    async handle({ query }) {
      parseQuery(query, noParameters);
      return { status: 200, json: { terminals: await deps.store.fleet() } };
    },
  };
}

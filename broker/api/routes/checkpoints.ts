import type { CentralStore } from '../../store/centralStore.js';
import { noParameters, parseQuery } from '../query.js';
import type { Route } from '../router.js';

/**
 * `GET /api/checkpoints`: every checkpoint with what the operator set (name, unit,
 * direction, confirmation, position, branch flag) and when it was created and retired;
 * retired ones are included, since their events and statistics stay.
 */
export function checkpointsRoute(deps: { readonly store: CentralStore }): Route {
  return {
    path: '/api/checkpoints',
    async handle({ query }) {
      parseQuery(query, noParameters);
      return { status: 200, json: { checkpoints: await deps.store.listCheckpoints() } };
    },
  };
}

import type { Principal } from '../../access/roles.js';
import type { CentralStore, FleetTerminal } from '../../store/centralStore.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { visibleCheckpointCodes } from './scope.js';

/**
 * `GET /api/terminals`: the fleet — online, last seen, telemetry (list versions, outbox
 * depth), gaps. A manager sees the terminals at the unit's checkpoints, a guard those at
 * its own; inspectors see counts only.
 */
/** The terminals a principal may see (the console's /fleet and /lists read the same). */
export async function visibleFleet(store: Pick<CentralStore, 'fleet' | 'listCheckpoints'>, principal: Principal): Promise<FleetTerminal[]> {
  const visible = await visibleCheckpointCodes(store, principal);
  return (await store.fleet()).filter((terminal) => visible === undefined || visible.includes(terminal.checkpointCode));
}

export function terminalsRoute(deps: Pick<RouteDeps, 'store' | 'holders'>): ProtectedRoute {
  return {
    path: '/api/terminals',
    access: only('admin', 'manager', 'guard'),
    async handle({ principal }) {
      const terminals = await visibleFleet(deps.store, principal);
      if (!deps.holders) return { status: 200, json: { terminals } };
      // A cluster: the node each terminal last connected to (null: none since the holders began).
      const holders = await deps.holders.all();
      return { status: 200, json: { terminals: terminals.map((terminal) => ({ ...terminal, node: holders.get(terminal.terminalId) ?? null })) } };
    },
  };
}

import type { Route } from '../route.js';
import { alarmRoutes } from './alarms.js';
import { cardRoutes } from './cards.js';
import { auditRoute } from './audit.js';
import { checkpointChangeRoutes } from './checkpointChanges.js';
import { checkpointsRoute } from './checkpoints.js';
import { checkpointStatsRoute } from './checkpointStats.js';
import type { RouteDeps } from './deps.js';
import { eventsRoute } from './events.js';
import { eventsCsvRoute } from './eventsCsv.js';
import { eventsLiveRoute } from './eventsLive.js';
import { healthRoute } from './health.js';
import { insideRoutes } from './inside.js';
import { listRoutes } from './lists.js';
import { memberRoutes } from './members.js';
import { metricsRoute } from './metrics.js';
import { pendingRoutes } from './pending.js';
import { pendingPhotoRoute } from './memberPhotos.js';
import { publicStatsRoute } from './publicStats.js';
import { sessionRoutes } from './session.js';
import { terminalChangeRoutes } from './terminalChanges.js';
import { terminalsRoute } from './terminals.js';
import { tokenRoutes } from './tokens.js';
import { userRoutes } from './users.js';

/** Every route the central serves; docs/central.md lists them with their roles. */
export function apiRoutes(deps: RouteDeps): Route[] {
  return [
    healthRoute(deps),
    publicStatsRoute(deps),
    ...sessionRoutes(deps),
    checkpointsRoute(deps),
    checkpointStatsRoute(deps),
    eventsRoute(deps),
    eventsCsvRoute(deps),
    eventsLiveRoute(deps),
    terminalsRoute(deps),
    metricsRoute(deps),
    ...memberRoutes(deps),
    ...cardRoutes(deps),
    ...listRoutes(deps),
    ...checkpointChangeRoutes(deps),
    ...terminalChangeRoutes(deps),
    ...userRoutes(deps),
    ...tokenRoutes(deps),
    auditRoute(deps),
    ...pendingRoutes(deps),
    // who is inside now (issue 14 page 5)
    ...insideRoutes(deps),
    ...alarmRoutes(deps),
    pendingPhotoRoute(deps),
  ];
}

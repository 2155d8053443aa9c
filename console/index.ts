import type { Pages } from '../broker/api/pages.js';
import { assetRoute } from './assets.js';
import { checkRoute } from './pages/check.js';
import { checkpointPages } from './pages/checkpoints.js';
import { renderPageError } from './pages/errors.js';
import { loginRoutes, logoutRoute } from './pages/login.js';
import { eventsFilterRoute, eventsPage } from './pages/events.js';
import { guardRoute } from './pages/guard.js';
import { memberPages } from './pages/members.js';
import { overviewRoute } from './pages/overview.js';
// overview alarms (issue 14 page 1)
import { acknowledgeAlarmRoute } from './pages/overviewAlarms.js';
// fleet, lists, audit, users (issue 14 pages 7, 8, 11)
import { auditPage } from './pages/audit.js';
import { fleetPages } from './pages/fleet.js';
import { listPages } from './pages/lists.js';
import { tokenPages } from './pages/tokens.js';
import { userPages } from './pages/users.js';
// who is inside now (issue 14 page 5)
import { insidePages } from './pages/inside.js';
// members: lost card, CSV import, photo (issue 14 page 6)
import { lostCardPages } from './pages/lostCard.js';
import { membersImportPages } from './pages/membersImport.js';
import { memberPhotoPages } from './pages/memberPhoto.js';

/** The operator console (issue 14): server-rendered pages the central serves beside its API. */
export const consolePages: Pages = {
  routes: (deps) => [
    assetRoute(),
    ...loginRoutes(deps),
    logoutRoute(deps),
    checkRoute(deps),
    overviewRoute(deps),
    acknowledgeAlarmRoute(deps),
    ...memberPages(deps),
    guardRoute(deps),
    eventsPage(deps),
    eventsFilterRoute(deps),
    ...checkpointPages(deps),
    ...fleetPages(deps),
    ...listPages(deps),
    auditPage(deps),
    ...userPages(deps),
    ...tokenPages(deps),
    ...insidePages(deps),
    // members: lost card, CSV import, photo (issue 14 page 6)
    ...lostCardPages(deps),
    ...membersImportPages(deps),
    ...memberPhotoPages(deps),
  ],
  renderError: renderPageError,
};

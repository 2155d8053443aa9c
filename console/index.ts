import type { Pages } from '../broker/api/pages.js';
import { assetRoute } from './assets.js';
import { checkRoute } from './pages/check.js';
import { checkpointPages } from './pages/checkpoints.js';
import { renderPageError } from './pages/errors.js';
import { loginRoutes, logoutRoute } from './pages/login.js';
import { eventsPage } from './pages/events.js';
import { guardRoute } from './pages/guard.js';
import { memberPages } from './pages/members.js';
import { overviewRoute } from './pages/overview.js';

/** The operator console (issue 14): server-rendered pages the central serves beside its API. */
export const consolePages: Pages = {
  routes: (deps) => [
    assetRoute(),
    ...loginRoutes(deps),
    logoutRoute(deps),
    checkRoute(deps),
    overviewRoute(deps),
    ...memberPages(deps),
    guardRoute(deps),
    eventsPage(deps),
    ...checkpointPages(deps),
  ],
  renderError: renderPageError,
};

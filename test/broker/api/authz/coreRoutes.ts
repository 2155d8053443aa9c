import { everyRole, site, type Row } from './row.js';

/**
 * The routes of the API foundation (issue 12, part 1), written by hand from docs/security.md
 * and broker/access/roles.ts's role descriptions — not from the routes' `access` lists.
 */

const own = site.checkpoints.own;
const other = site.checkpoints.other;
const login = { username: site.user.username, password: site.user.password };

// prettier-ignore
export const coreRoutes: readonly Row[] = [
  // Open to anyone; credentials, good or bad, change nothing.
  { method: 'GET', path: '/healthz', expect: everyRole(200, 200) },
  { method: 'GET', path: `/api/public/checkpoints/${own}/stats`, expect: everyRole(200, 200) },
  { method: 'GET', path: `/api/public/checkpoints/${site.unregisteredCheckpoint}/stats`, expect: everyRole(404, 404) },
  // Logging in works whatever else the request carries (a stale cookie, a token).
  { method: 'POST', path: '/api/session', body: login, expect: everyRole(200, 200) },
  { method: 'POST', path: '/api/session', body: { ...login, password: 'not the password' }, expect: everyRole(401, 401) },

  // Who am I: any role. Ending a session needs one: a bearer token has none to end.
  { method: 'GET', path: '/api/session', expect: everyRole(200) },
  { method: 'DELETE', path: '/api/session', expect: everyRole(400) },

  // Checkpoints: everyone sees the list (filtered to their scope); counts within scope, all for inspectors.
  { method: 'GET', path: '/api/checkpoints', expect: everyRole(200) },
  { method: 'GET', path: `/api/checkpoints/${own}/stats`,
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 403, guard: 200, guardOther: 403, inspector: 200 } },
  { method: 'GET', path: `/api/checkpoints/${other}/stats`,
    expect: { anonymous: 401, admin: 200, managerOwn: 403, managerOther: 200, guard: 403, guardOther: 200, inspector: 200 } },
  { method: 'GET', path: `/api/checkpoints/${site.unregisteredCheckpoint}/stats`, expect: everyRole(404) },

  // The in/out log holds personal data: never for inspectors; others within scope.
  { method: 'GET', path: '/api/events',
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 200, guard: 200, guardOther: 200, inspector: 403 } },
  { method: 'GET', path: `/api/events?checkpoint=${own}`,
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 403, guard: 200, guardOther: 403, inspector: 403 } },
  { method: 'GET', path: `/api/events?checkpoint=${other}`,
    expect: { anonymous: 401, admin: 200, managerOwn: 403, managerOther: 200, guard: 403, guardOther: 200, inspector: 403 } },
  // Filtering by residence or member reads addresses and ID refs: never a guard's (they see names only).
  { method: 'GET', path: '/api/events?residence=hue',
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 200, guard: 403, guardOther: 403, inspector: 403 } },
  { method: 'GET', path: '/api/events?person=a',
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 200, guard: 200, guardOther: 200, inspector: 403 } },
  // The same log as a download: the same callers, the same scope.
  { method: 'GET', path: '/events.csv',
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 200, guard: 200, guardOther: 200, inspector: 403 } },
  { method: 'GET', path: `/events.csv?checkpoint=${own}`,
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 403, guard: 200, guardOther: 403, inspector: 403 } },
  // And as it happens.
  { method: 'GET', path: '/api/events/live',
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 200, guard: 200, guardOther: 200, inspector: 403 } },
  { method: 'GET', path: `/api/events/live?checkpoint=${other}`,
    expect: { anonymous: 401, admin: 200, managerOwn: 403, managerOther: 200, guard: 403, guardOther: 200, inspector: 403 } },

  // The fleet: operators within scope; inspectors see counts only.
  { method: 'GET', path: '/api/terminals',
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 200, guard: 200, guardOther: 200, inspector: 403 } },

  // Counts only, no personal data: admins and inspectors (and Prometheus with their token).
  { method: 'GET', path: '/metrics',
    expect: { anonymous: 401, admin: 200, managerOwn: 403, managerOther: 403, guard: 403, guardOther: 403, inspector: 200 } },
];

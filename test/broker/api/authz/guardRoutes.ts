import { everyRole, site, type Row } from './row.js';

/**
 * The guard screen's routes (issue 14 point 9), written by hand from docs/security.md:
 * pending scans hold people, so never inspectors; guards of the checkpoint, the manager of
 * its unit and admins. The answers to a scan actually pending (scope, 202, then 409) are
 * test/broker/api/pending.test.ts's: a matrix site has none pending.
 */

const own = site.checkpoints.own;
const other = site.checkpoints.other;
const noSuchScan = '0190d6a4-7b7e-7c3a-8f00-000000000001';
const open = { reason: 'xe cứu thương vào' };

// prettier-ignore
export const guardRoutes: readonly Row[] = [
  { method: 'GET', path: '/api/pending',
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 200, guard: 200, guardOther: 200, inspector: 403 } },
  { method: 'GET', path: `/api/pending?checkpoint=${own}`,
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 403, guard: 200, guardOther: 403, inspector: 403 } },
  { method: 'GET', path: `/api/pending?checkpoint=${other}`,
    expect: { anonymous: 401, admin: 200, managerOwn: 403, managerOther: 200, guard: 403, guardOther: 200, inspector: 403 } },
  // Nothing is pending: an answer to an unknown scan is 404 for whoever may answer at all.
  { method: 'POST', path: `/api/pending/${noSuchScan}/confirm`, body: {},
    expect: { ...everyRole(404), inspector: 403 } },
  { method: 'POST', path: `/api/pending/${noSuchScan}/reject`, body: {},
    expect: { ...everyRole(404), inspector: 403 } },
  // The photo of a pending scan's person: only while pending, so 404 here for whoever may see scans at all.
  { method: 'GET', path: `/api/pending/${noSuchScan}/photo`,
    expect: { ...everyRole(404), inspector: 403 } },
  // A remote open: sent (202) within scope; each site checkpoint has one terminal.
  { method: 'POST', path: `/api/checkpoints/${own}/open`, body: open,
    expect: { anonymous: 401, admin: 202, managerOwn: 202, managerOther: 403, guard: 202, guardOther: 403, inspector: 403 } },
  { method: 'POST', path: `/api/checkpoints/${other}/open`, body: open,
    expect: { anonymous: 401, admin: 202, managerOwn: 403, managerOther: 202, guard: 403, guardOther: 202, inspector: 403 } },
];

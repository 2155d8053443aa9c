import { everyRole, site, type Row } from './row.js';

/**
 * Who is inside now (issue 14 page 5), written by hand from docs/central.md: people, so never
 * inspectors; a roll call started by an admin, the manager of its unit or a guard of one of
 * its unit's checkpoints; taking a person out is an operator's (admin, manager), not a
 * guard's. Who sees whom inside, marks and take-outs of people actually inside are
 * test/broker/api/inside.test.ts's and test/console/inside.test.ts's.
 */

const nobody = '0'.repeat(64);

// prettier-ignore
export const insideRoutes: readonly Row[] = [
  { method: 'GET', path: '/api/inside',
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 200, guard: 200, guardOther: 200, inspector: 403 } },
  { method: 'POST', path: '/api/inside/roll-calls', body: { unit: site.units.own },
    expect: { anonymous: 401, admin: 201, managerOwn: 201, managerOther: 403, guard: 201, guardOther: 403, inspector: 403 } },
  { method: 'POST', path: '/api/inside/roll-calls', body: { unit: site.units.other },
    expect: { anonymous: 401, admin: 201, managerOwn: 403, managerOther: 201, guard: 403, guardOther: 201, inspector: 403 } },
  { method: 'POST', path: '/api/inside/roll-calls/999999/safe', body: { ref: nobody },
    expect: { ...everyRole(404), inspector: 403 } },
  { method: 'POST', path: '/api/inside/take-out', body: { ref: nobody, reason: 'quên quẹt thẻ khi ra' },
    expect: { anonymous: 401, admin: 404, managerOwn: 404, managerOther: 404, guard: 403, guardOther: 403, inspector: 403 } },
];

import { type Row } from './row.js';

/**
 * The overview's alarms (issue 14 point 1, docs/central.md "Alarms"): those who run gates see
 * and acknowledge the alarms of the terminals they may see; inspectors read counts only. The
 * seeded site raises no alarm, so acknowledging one answers 404 to everyone allowed to ask
 * (test/broker/api/alarms.test.ts covers an alarm each unit raises).
 */

const gone = `/api/alarms/${encodeURIComponent('terminal-offline:gate-own-1:1')}/acknowledge`;

// prettier-ignore
export const alarmRoutes: readonly Row[] = [
  { method: 'GET', path: '/api/alarms',
    expect: { anonymous: 401, admin: 200, managerOwn: 200, managerOther: 200, guard: 200, guardOther: 200, inspector: 403 } },
  { method: 'POST', path: gone, body: { note: 'đã gọi kỹ thuật viên' },
    expect: { anonymous: 401, admin: 404, managerOwn: 404, managerOther: 404, guard: 404, guardOther: 404, inspector: 403 } },
  // A note is required: refused before anything is looked up.
  { method: 'POST', path: gone, body: { note: '  ' },
    expect: { anonymous: 401, admin: 400, managerOwn: 400, managerOther: 400, guard: 400, guardOther: 400, inspector: 403 } },
];

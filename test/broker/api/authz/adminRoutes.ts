import { site, type Expect, type Row } from './row.js';

/**
 * Who may call each admin route (issue 12 points 2, 5, 7, 8), written by hand, on row.ts's
 * site: `managerOwn` manages the unit of `site.checkpoints.own`, `managerOther` that of
 * `site.checkpoints.other`. Targets are real where scope decides the answer (a checkpoint,
 * a terminal, a user) and absent where only the role does (a token id nobody holds: 404
 * for an admin, refused before that for everyone else).
 */

/** Admin only: 401 without credentials, 403 for every other role. */
const adminOnly = (admin: number): Expect => ({ anonymous: 401, admin, managerOwn: 403, managerOther: 403, guard: 403, inspector: 403 });
/** Admin, and the manager whose unit it is. */
const unitManaged = (ok: number): Expect => ({ anonymous: 401, admin: ok, managerOwn: ok, managerOther: 403, guard: 403, inspector: 403 });

export const adminRoutes: readonly Row[] = [
  // checkpoints
  { method: 'POST', path: '/api/checkpoints', body: { name: 'Cổng mới', direction: 'in', confirm: 'auto', unit: site.units.own }, expect: unitManaged(201) },
  // Without a unit, a manager's checkpoint is its own unit's.
  { method: 'POST', path: '/api/checkpoints', body: { name: 'Cổng mới', direction: 'in', confirm: 'auto' }, expect: { ...unitManaged(201), managerOther: 201 } },
  { method: 'PATCH', path: `/api/checkpoints/${site.checkpoints.own}`, body: { name: 'Cổng chính' }, expect: unitManaged(200) },
  { method: 'PATCH', path: `/api/checkpoints/${site.checkpoints.own}`, body: { unit: site.units.other }, expect: { ...unitManaged(200), managerOwn: 403 } },
  { method: 'POST', path: `/api/checkpoints/${site.checkpoints.own}/retire`, expect: unitManaged(200) },
  { method: 'POST', path: `/api/checkpoints/${site.checkpoints.other}/retire`, expect: { ...unitManaged(200), managerOwn: 403, managerOther: 200 } },
  // terminals
  { method: 'DELETE', path: `/api/terminals/${site.terminals.own}`, expect: adminOnly(200) },
  { method: 'POST', path: `/api/terminals/${site.terminals.own}/rotate-secret`, expect: adminOnly(200) },
  { method: 'POST', path: '/api/terminals/enroll-qr', body: { checkpoint: site.checkpoints.own, url: 'mqtt://10.0.0.5:1883', format: 'svg' }, expect: adminOnly(201) },
  // users
  { method: 'GET', path: '/api/users', expect: adminOnly(200) },
  { method: 'POST', path: '/api/users', body: { username: 'new.user', role: 'inspector' }, expect: adminOnly(201) },
  { method: 'POST', path: `/api/users/${site.user.username}/password`, body: {}, expect: adminOnly(200) },
  { method: 'POST', path: `/api/users/${site.user.username}/disable`, expect: adminOnly(200) },
  { method: 'DELETE', path: `/api/users/${site.user.username}`, expect: adminOnly(200) },
  // tokens
  { method: 'GET', path: '/api/tokens', expect: adminOnly(200) },
  { method: 'POST', path: '/api/tokens', body: { name: 'prometheus', role: 'inspector', readOnly: true }, expect: adminOnly(201) },
  { method: 'DELETE', path: '/api/tokens/zzzzzzzzzz', expect: adminOnly(404) },
  // audit
  { method: 'GET', path: '/api/audit?limit=10', expect: adminOnly(200) },
];

import { CP_A, CP_B } from '../../store/scanEvents.js';

/**
 * Who may call each admin route (issue 12 points 2, 5, 7, 8), as data for the
 * authorization matrix runner: one row per request, the HTTP status each caller gets.
 *
 * Every cell runs against a fresh central seeded as `adminRoutesFixture` says (several
 * rows change state: a retired checkpoint cannot be retired twice), with bearer tokens:
 * `managerOwn` manages `ownUnit`, `managerOther` manages `otherUnit`, `guard` holds
 * `guardCheckpoint`, `inspector` has no scope, `anonymous` sends no credentials. Targets
 * of removals are real where scope decides the answer (a checkpoint) and absent where
 * only the role does (a token id nobody holds: 404 for an admin, refused before for others).
 */

export type Caller = 'anonymous' | 'admin' | 'managerOwn' | 'managerOther' | 'guard' | 'inspector';

export interface AuthzRow {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly path: string;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly expect: Readonly<Record<Caller, number>>;
}

export const adminRoutesFixture = {
  ownUnit: 'Công ty May Huế',
  otherUnit: 'Phường Phú Hội',
  /** In `ownUnit`, live, with terminal `terminalId`. */
  ownCheckpoint: CP_A,
  /** In `otherUnit`, live. */
  otherCheckpoint: CP_B,
  guardCheckpoint: CP_A,
  terminalId: 'gate-a-1',
  /** A user (role inspector) an admin may change. */
  username: 'hoa.nguyen',
} as const;

const f = adminRoutesFixture;

/** Admin only: 401 without credentials, 403 for every other role. */
const adminOnly = (admin: number) => ({ anonymous: 401, admin, managerOwn: 403, managerOther: 403, guard: 403, inspector: 403 });
/** Admin, and the manager whose unit it is. */
const unitManaged = (ok: number) => ({ anonymous: 401, admin: ok, managerOwn: ok, managerOther: 403, guard: 403, inspector: 403 });

export const adminRoutesTable: readonly AuthzRow[] = [
  // checkpoints
  { method: 'POST', path: '/api/checkpoints', body: { name: 'Cổng mới', direction: 'in', confirm: 'auto', unit: f.ownUnit }, expect: unitManaged(201) },
  { method: 'POST', path: '/api/checkpoints', body: { name: 'Cổng mới', direction: 'in', confirm: 'auto' }, expect: { ...unitManaged(201), managerOther: 201 } },
  { method: 'PATCH', path: `/api/checkpoints/${f.ownCheckpoint}`, body: { name: 'Cổng chính' }, expect: unitManaged(200) },
  { method: 'PATCH', path: `/api/checkpoints/${f.ownCheckpoint}`, body: { unit: f.otherUnit }, expect: { ...unitManaged(200), managerOwn: 403 } },
  { method: 'POST', path: `/api/checkpoints/${f.ownCheckpoint}/retire`, expect: unitManaged(200) },
  { method: 'POST', path: `/api/checkpoints/${f.otherCheckpoint}/retire`, expect: { ...unitManaged(200), managerOwn: 403, managerOther: 200 } },
  // terminals
  { method: 'DELETE', path: `/api/terminals/${f.terminalId}`, expect: adminOnly(200) },
  { method: 'POST', path: `/api/terminals/${f.terminalId}/rotate-secret`, expect: adminOnly(200) },
  { method: 'POST', path: '/api/terminals/enroll-qr', body: { checkpoint: f.ownCheckpoint, url: 'mqtt://10.0.0.5:1883', format: 'svg' }, expect: adminOnly(201) },
  // users
  { method: 'GET', path: '/api/users', expect: adminOnly(200) },
  { method: 'POST', path: '/api/users', body: { username: 'new.user', role: 'inspector' }, expect: adminOnly(201) },
  { method: 'POST', path: `/api/users/${f.username}/password`, body: {}, expect: adminOnly(200) },
  { method: 'POST', path: `/api/users/${f.username}/disable`, expect: adminOnly(200) },
  { method: 'DELETE', path: `/api/users/${f.username}`, expect: adminOnly(200) },
  // tokens
  { method: 'GET', path: '/api/tokens', expect: adminOnly(200) },
  { method: 'POST', path: '/api/tokens', body: { name: 'prometheus', role: 'inspector', readOnly: true }, expect: adminOnly(201) },
  { method: 'DELETE', path: '/api/tokens/zzzzzzzzzz', expect: adminOnly(404) },
  // audit
  { method: 'GET', path: '/api/audit?limit=10', expect: adminOnly(200) },
];

import type { Method } from '../../../../broker/api/route.js';
import { checkpointCode } from '../../store/scanEvents.js';

/**
 * The authorization matrix's row format, shared by every table in this folder
 * (coreRoutes.ts, registryRoutes.ts, adminRoutes.ts, …), and the seeded site the rows
 * name. A table file `<name>.ts` exports `const <name>: readonly Row[]`, written by hand:
 * the expected answers are the specification, not a copy of the code's role lists.
 * test/broker/api/authzMatrix.test.ts imports every table and runs every row over a real
 * socket against a real SQLite store holding `site`.
 *
 * Columns the runner derives for every row, so tables leave them out:
 * - malformed, unknown, revoked and expired bearer tokens, and sessions ended by idle time
 *   and by absolute age: 401 on a protected route; a public route answers them as it
 *   answers `anonymous` (bad credentials on an open route are ignored, not refused);
 * - a read-only admin token: a GET, and any method on a public route, answers as `admin`;
 *   any other method on a protected route is 403.
 * Whether a route is public is read from its declaration (broker/api/routes/); the
 * `anonymous` column checks that declaration independently.
 */

/** Who asks, each with a bearer token of that role and scope (see `site`). */
export interface Expect {
  /** No credentials at all. */
  readonly anonymous: number;
  readonly admin: number;
  /** The manager of `site.units.own`, the unit that owns `site.checkpoints.own` and `site.members.own`. */
  readonly managerOwn: number;
  /** The manager of `site.units.other`. */
  readonly managerOther: number;
  /** A guard of `site.checkpoints.own`. */
  readonly guard: number;
  /** A guard of `site.checkpoints.other` only; when absent, expected to answer as `guard`. */
  readonly guardOther?: number;
  readonly inspector: number;
}

export interface Row {
  readonly method: Method;
  /**
   * The concrete request target, query included: `/api/checkpoints/${site.checkpoints.own}/stats`.
   * `{ownRef}` and `{otherRef}` (here or in a body) stand for the members' refs, the hex of
   * their ID numbers' keyed hashes: they depend on each central's ref key, so the runner fills them in.
   */
  readonly path: string;
  /** Sent as JSON; each cell runs against a freshly seeded site, so a change by one column never reaches another. */
  readonly body?: unknown;
  /** A body sent as text (the members file) instead of JSON. */
  readonly contentType?: 'text/csv';
  readonly expect: Expect;
}

/** Same status for every principal that holds a token of any role. */
export function everyRole(status: number, anonymous = 401): Expect {
  return { anonymous, admin: status, managerOwn: status, managerOther: status, guard: status, guardOther: status, inspector: status };
}

/**
 * The small site every cell starts from (test/broker/api/authzSite.ts seeds it): two units,
 * a checkpoint and a terminal each, a member in each, and events at each checkpoint by both
 * members, so every log holds a person of the other unit.
 */
export const site = {
  units: { own: 'Công ty May Huế', other: 'Tổ 5 Phường Phú Hội' },
  checkpoints: { own: checkpointCode('1000000000000'), other: checkpointCode('1000000000001') },
  /** A well-formed code nobody registered. */
  unregisteredCheckpoint: checkpointCode('1234567890123'),
  terminals: { own: 'gate-own-1', other: 'gate-other-1' },
  members: {
    own: { idNumber: '046085000101', name: 'Nguyễn Văn An', phone: '0905123456', address: '12 Lê Lợi, Phường Phú Hội, Huế', scope: 'site-a' },
    other: { idNumber: '046185000102', name: 'Trần Thị Bình', phone: '0914000111', address: '5 Hùng Vương, Phường Phú Nhuận, Huế', scope: 'phu-hoi' },
  },
  /** A user with a password, for login rows and session cells. */
  user: { username: 'ops-admin', password: 'correct horse battery staple', role: 'admin' },
} as const;

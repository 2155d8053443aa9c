/**
 * Who may call each registry route (issue 12 point 7: members, cards, lists), as data for
 * the authorization matrix runner: one row per request, the HTTP status each caller gets.
 *
 * Every cell runs against a fresh central seeded as `registryRoutesFixture` says, with bearer
 * tokens: `managerOwn` manages `ownUnit`, `managerOther` manages `otherUnit`, `guard` holds
 * one checkpoint, `inspector` has no scope, `anonymous` sends no credentials. A member is
 * named in a path by the hex of its ID number's keyed hash, which depends on the central's
 * own ref key: `{ownRef}` and `{otherRef}` (in a path or a body string) stand for the refs of `ownMember` and
 * `otherMember` (the runner reads them with POST /api/members/search as admin). Where only
 * the role decides, the target is absent (a ref or card nobody has: 404 for those allowed).
 * Bodies are JSON unless `contentType` says otherwise.
 */

export type Caller = 'anonymous' | 'admin' | 'managerOwn' | 'managerOther' | 'guard' | 'inspector';

export interface AuthzRow {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  /** For a body sent as text (the members file); JSON otherwise. */
  readonly contentType?: 'text/csv';
  readonly expect: Readonly<Record<Caller, number>>;
}

const ownUnit = 'Công ty May Huế';
const otherUnit = 'Tổ dân phố 5';

export const registryRoutesFixture = {
  ownUnit,
  otherUnit,
  /** Seed with POST /api/members/import as admin (text/csv); nobody holds a card yet. */
  membersCsv:
    'name,phone,address,unit,scope,idNumber,status\n' +
    `Nguyễn Văn An,0905123456,"12 Lê Lợi, Huế",${ownUnit},site-a,046085000101,allow\n` +
    `Lê Văn Cường,0935000222,,${otherUnit},phu-hoi,046090000103,allow\n`,
  ownMember: { idNumber: '046085000101', scope: 'site-a' },
  otherMember: { idNumber: '046090000103', scope: 'phu-hoi' },
} as const;

const f = registryRoutesFixture;
const q = encodeURIComponent;
const nobody = '0'.repeat(64);

/** Admin, and the manager whose unit (or scope) it is. */
const unitManaged = (ok: number) => ({ anonymous: 401, admin: ok, managerOwn: ok, managerOther: 403, guard: 403, inspector: 403 });
/** Admin and any manager: the answer is filtered to the manager's unit, not refused. */
const anyManager = (ok: number) => ({ ...unitManaged(ok), managerOther: ok });

export const registryRoutesTable: readonly AuthzRow[] = [
  // members
  { method: 'GET', path: '/api/members', expect: anyManager(200) },
  { method: 'GET', path: `/api/members?unit=${q(f.ownUnit)}&q=nguyen`, expect: unitManaged(200) },
  { method: 'POST', path: '/api/members/search', body: { idNumber: f.ownMember.idNumber }, expect: unitManaged(200) },
  { method: 'POST', path: '/api/members', body: { name: 'Phạm Thị Dung', phone: '0901234567', scope: 'site-a', idNumber: '046195000104', unit: f.ownUnit }, expect: unitManaged(201) },
  // Without a unit a manager adds to its own; an admin must name one.
  { method: 'POST', path: '/api/members', body: { name: 'Phạm Thị Dung', phone: '0901234567', scope: 'site-a', idNumber: '046195000104' }, expect: { ...anyManager(201), admin: 400 } },
  { method: 'GET', path: '/api/members/{ownRef}', expect: unitManaged(200) },
  { method: 'GET', path: `/api/members/${nobody}`, expect: anyManager(404) },
  { method: 'PATCH', path: '/api/members/{ownRef}', body: { phone: '0905000999' }, expect: unitManaged(200) },
  { method: 'PATCH', path: '/api/members/{ownRef}', body: { unit: f.otherUnit }, expect: { ...unitManaged(200), managerOwn: 403 } },
  { method: 'POST', path: '/api/members/{otherRef}/status', body: { status: 'deny' }, expect: { ...unitManaged(200), managerOwn: 403, managerOther: 200 } },
  { method: 'DELETE', path: '/api/members/{ownRef}', expect: unitManaged(200) },
  { method: 'POST', path: '/api/members/import', contentType: 'text/csv', body: f.membersCsv, expect: { ...unitManaged(200), managerOwn: 400, managerOther: 400 } },
  { method: 'POST', path: '/api/members/import', contentType: 'text/csv', body: f.membersCsv.split('\n').slice(0, 2).join('\n'), expect: { ...unitManaged(200), managerOther: 400 } },
  // cards
  { method: 'GET', path: '/api/cards', expect: anyManager(200) },
  { method: 'GET', path: `/api/cards?unit=${q(f.ownUnit)}&status=live`, expect: unitManaged(200) },
  { method: 'POST', path: '/api/cards/issue', body: { unit: f.ownUnit }, expect: unitManaged(200) },
  { method: 'POST', path: '/api/cards/issue', body: { memberRef: '{ownRef}' }, expect: unitManaged(200) },
  { method: 'POST', path: '/api/cards/issue', body: { all: true }, expect: anyManager(200) },
  { method: 'POST', path: '/api/cards/revoke', body: { number: '0000 0000 0000 0000 0000 0000 00' }, expect: anyManager(404) },
  // Nobody holds a card in the fixture: the allowed get "nothing to print".
  { method: 'GET', path: `/api/cards.pdf?unit=${q(f.ownUnit)}&sheet=a4`, expect: unitManaged(404) },
  // lists
  { method: 'GET', path: '/api/lists', expect: anyManager(200) },
  { method: 'POST', path: `/api/lists/${f.ownMember.scope}/publish`, body: { expiresInDays: 7 }, expect: unitManaged(200) },
  { method: 'POST', path: `/api/lists/${f.otherMember.scope}/publish`, body: {}, expect: { ...unitManaged(200), managerOwn: 403, managerOther: 200 } },
];

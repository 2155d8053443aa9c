import { site, type Expect, type Row } from './row.js';

/**
 * Who may call each registry route (issue 12 point 7: members, cards, lists), written by
 * hand. The site is row.ts's: `managerOwn` manages the unit of `site.members.own` (scope
 * site-a), `managerOther` the unit of `site.members.other` (scope phu-hoi); guards and
 * inspectors have no registry access at all. Where only the role decides, the target is
 * absent (a ref or card nobody has: 404 for those allowed).
 */

const q = encodeURIComponent;
const nobody = '0'.repeat(64);
const header = 'name,phone,address,unit,scope,idNumber,status\n';
/** Two new people, one of each unit: only an admin may import both at once. */
const ownRow = `Phạm Thị Dung,0901234567,,"${site.units.own}",site-a,046195000104,allow\n`;
const otherRow = `Lê Văn Cường,0935000222,,"${site.units.other}",phu-hoi,046090000103,allow\n`;

/** Admin, and the manager whose unit (or scope) it is. */
const unitManaged = (ok: number): Expect => ({ anonymous: 401, admin: ok, managerOwn: ok, managerOther: 403, guard: 403, inspector: 403 });
/** Admin and any manager: the answer is filtered to the manager's unit, not refused. */
const anyManager = (ok: number): Expect => ({ ...unitManaged(ok), managerOther: ok });

export const registryRoutes: readonly Row[] = [
  // members
  { method: 'GET', path: '/api/members', expect: anyManager(200) },
  { method: 'GET', path: `/api/members?unit=${q(site.units.own)}&q=nguyen`, expect: unitManaged(200) },
  { method: 'POST', path: '/api/members/search', body: { idNumber: site.members.own.idNumber }, expect: unitManaged(200) },
  { method: 'POST', path: '/api/members', body: { name: 'Phạm Thị Dung', phone: '0901234567', scope: 'site-a', idNumber: '046195000104', unit: site.units.own }, expect: unitManaged(201) },
  // Without a unit a manager adds to its own; an admin must name one.
  { method: 'POST', path: '/api/members', body: { name: 'Phạm Thị Dung', phone: '0901234567', scope: 'site-a', idNumber: '046195000104' }, expect: { ...anyManager(201), admin: 400 } },
  { method: 'GET', path: '/api/members/{ownRef}', expect: unitManaged(200) },
  { method: 'GET', path: `/api/members/${nobody}`, expect: anyManager(404) },
  { method: 'PATCH', path: '/api/members/{ownRef}', body: { phone: '0905000999' }, expect: unitManaged(200) },
  { method: 'PATCH', path: '/api/members/{ownRef}', body: { unit: site.units.other }, expect: { ...unitManaged(200), managerOwn: 403 } },
  { method: 'POST', path: '/api/members/{otherRef}/status', body: { status: 'deny' }, expect: { ...unitManaged(200), managerOwn: 403, managerOther: 200 } },
  { method: 'DELETE', path: '/api/members/{ownRef}', expect: unitManaged(200) },
  { method: 'POST', path: '/api/members/import', contentType: 'text/csv', body: header + ownRow + otherRow, expect: { ...unitManaged(200), managerOwn: 400, managerOther: 400 } },
  { method: 'POST', path: '/api/members/import', contentType: 'text/csv', body: header + ownRow, expect: { ...unitManaged(200), managerOther: 400 } },
  // cards
  { method: 'GET', path: '/api/cards', expect: anyManager(200) },
  { method: 'GET', path: `/api/cards?unit=${q(site.units.own)}&status=live`, expect: unitManaged(200) },
  { method: 'POST', path: '/api/cards/issue', body: { unit: site.units.own }, expect: unitManaged(200) },
  { method: 'POST', path: '/api/cards/issue', body: { memberRef: '{ownRef}' }, expect: unitManaged(200) },
  { method: 'POST', path: '/api/cards/issue', body: { all: true }, expect: anyManager(200) },
  { method: 'POST', path: '/api/cards/revoke', body: { number: '0000 0000 0000 0000 0000 0000 00' }, expect: anyManager(404) },
  // Nobody holds a card in the site: the allowed get "nothing to print".
  { method: 'GET', path: `/api/cards.pdf?unit=${q(site.units.own)}&sheet=a4`, expect: unitManaged(404) },
  // lists
  { method: 'GET', path: '/api/lists', expect: anyManager(200) },
  { method: 'POST', path: `/api/lists/${site.members.own.scope}/publish`, body: { expiresInDays: 7 }, expect: unitManaged(200) },
  { method: 'POST', path: `/api/lists/${site.members.other.scope}/publish`, body: {}, expect: { ...unitManaged(200), managerOwn: 403, managerOther: 200 } },
];

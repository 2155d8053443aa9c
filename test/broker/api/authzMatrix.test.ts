import { readdirSync } from 'node:fs';
import { LoginDesk } from '../../../broker/access/loginDesk.js';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sessionCookieName } from '../../../broker/access/sessions.js';
import type { Route } from '../../../broker/api/route.js';
import { apiRoutes } from '../../../broker/api/routes/index.js';
import { LiveEvents } from '../../../broker/ingestion/liveEvents.js';
import { registryRefHasher } from '../../../broker/registry/registryDb.js';
import { refToHex } from '../../../protocol/credentialRef.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { useApi } from './apiHarness.js';
import { MINUTE, startSession, useSite, type SiteWorld, type TokenHolder } from './authzSite.js';
import { coreRoutes } from './authz/coreRoutes.js';
import { site, type Row } from './authz/row.js';

/**
 * The central's authorization as ONE table, like the MQTT ACL matrix
 * (test/broker/auth/aclMatrix.test.ts): every route x every kind of caller, the expected
 * status written by hand in test/broker/api/authz/*.ts, each answer taken over a real
 * socket from a real server on a real SQLite store seeded with a small site (row.ts).
 * A GET row runs all its cells against one site. Any other method gets a freshly seeded site
 * for each cell that may change it (an allowed caller; any caller of a public route, where a
 * refused login still counts towards the throttle), so one column's change never shows in
 * another's answer; its refused cells share one site, since a refusal changes nothing (one
 * that let the change through fails its own cell), and its ended sessions another, for the
 * clock they move.
 */

// ---- The tables. A route group's table is imported here and listed in `tables`. ----
import { registryRoutes } from './authz/registryRoutes.js';
import { adminRoutes } from './authz/adminRoutes.js';
import { guardRoutes } from './authz/guardRoutes.js';
import { insideRoutes } from './authz/insideRoutes.js';
import { alarmRoutes } from './authz/alarmRoutes.js';
const tables: Readonly<Record<string, readonly Row[]>> = {
  coreRoutes,
  registryRoutes,
  adminRoutes,
  guardRoutes,
  insideRoutes,
  alarmRoutes,
};
// ---- end of the tables ----

const rows = Object.entries(tables).flatMap(([table, tableRows]) => tableRows.map((row) => ({ table, ...row })));

/** Every column of the matrix: the table's, then the ones the runner derives (row.ts). */
const columns = [
  'anonymous',
  'admin',
  'managerOwn',
  'managerOther',
  'guard',
  'guardOther',
  'inspector',
  'readOnly',
  'malformedToken',
  'unknownToken',
  'revokedToken',
  'expiredToken',
  'idleSession',
  'oldSession',
] as const;
type Column = (typeof columns)[number];
type Answers = Record<Column, number>;

const tokenColumns = { malformedToken: 'malformed', unknownToken: 'unknown', revokedToken: 'revoked', expiredToken: 'expired' } as const;

/** `/api/checkpoints/{code}/stats` as a pattern for a concrete path. */
function pathPattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}$`);
}

const routeMatches = (route: Route, row: Row): boolean => (route.method ?? 'GET') === row.method && pathPattern(route.path).test(row.path.split('?')[0]!);

function expected(row: Row, isPublic: boolean): Answers {
  const e = row.expect;
  const refused = isPublic ? e.anonymous : 401;
  return {
    anonymous: e.anonymous,
    admin: e.admin,
    managerOwn: e.managerOwn,
    managerOther: e.managerOther,
    guard: e.guard,
    guardOther: e.guardOther ?? e.guard,
    inspector: e.inspector,
    readOnly: isPublic || row.method === 'GET' ? e.admin : 403,
    malformedToken: refused,
    unknownToken: refused,
    revokedToken: refused,
    expiredToken: refused,
    idleSession: refused,
    oldSession: refused,
  };
}

interface Sent {
  readonly status: number;
  readonly body: string;
}

async function send(world: SiteWorld, row: Row, credentials: { token?: string; session?: { id: string; csrfToken: string } }): Promise<Sent> {
  const headers: Record<string, string> = {};
  if (credentials.token !== undefined) headers.authorization = `Bearer ${credentials.token}`;
  if (credentials.session !== undefined) {
    headers.cookie = `${sessionCookieName}=${credentials.session.id}`;
    // With the right CSRF token, a live session would pass: only its age can refuse it.
    if (row.method !== 'GET') headers['x-csrf-token'] = credentials.session.csrfToken;
  }
  if (row.body !== undefined) headers['content-type'] = row.contentType ?? 'application/json';
  const body = row.body === undefined ? undefined : withRefs(world, typeof row.body === 'string' ? row.body : JSON.stringify(row.body));
  const response = await fetch(`${world.api.base}${withRefs(world, row.path)}`, { method: row.method, headers, ...(body === undefined ? {} : { body }) });
  // A live feed never ends: its status and first bytes are its answer.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    const reader = response.body!.getReader();
    const first = await reader.read();
    await reader.cancel();
    return { status: response.status, body: first.done ? '' : new TextDecoder().decode(first.value) };
  }
  return { status: response.status, body: await response.text() };
}

/** `{ownRef}` / `{otherRef}` -> the members' refs under this central's ref key (row.ts). */
function withRefs(world: SiteWorld, text: string): string {
  const ref = (idNumber: string) => refToHex(registryRefHasher(world.api.config)('citizen', idNumber));
  return text.replaceAll('{ownRef}', ref(site.members.own.idNumber)).replaceAll('{otherRef}', ref(site.members.other.idNumber));
}

const whoAmI = async (world: SiteWorld, session: { id: string; csrfToken: string }): Promise<number> =>
  (await send(world, { method: 'GET', path: '/api/session', expect: {} as Row['expect'] }, { session })).status;

/**
 * The two ended sessions, by driving the server's clock (idle 30 min, absolute 1 h): both
 * are shown alive first, then the idle one is used after 31 quiet minutes, and the old one
 * after 61 minutes of use every 25 minutes, 11 of them quiet.
 */
async function endedSessions(world: SiteWorld, row: Row, which: readonly ('idleSession' | 'oldSession')[]): Promise<Partial<Record<Column, Sent>>> {
  const idle = await startSession(world);
  const old = await startSession(world);
  expect([await whoAmI(world, idle), await whoAmI(world, old)]).toEqual([200, 200]);
  const answers: Partial<Record<Column, Sent>> = {};
  world.advance(25 * MINUTE);
  expect(await whoAmI(world, old)).toBe(200);
  world.advance(6 * MINUTE);
  if (which.includes('idleSession')) answers.idleSession = await send(world, row, { session: idle });
  if (!which.includes('oldSession')) return answers;
  world.advance(19 * MINUTE);
  expect(await whoAmI(world, old)).toBe(200);
  world.advance(11 * MINUTE);
  answers.oldSession = await send(world, row, { session: old });
  return answers;
}

async function cell(world: SiteWorld, row: Row, column: Exclude<Column, 'idleSession' | 'oldSession'>): Promise<Sent> {
  if (column === 'anonymous') return send(world, row, {});
  if (column in tokenColumns) return send(world, row, { token: world.badTokens[tokenColumns[column as keyof typeof tokenColumns]] });
  return send(world, row, { token: world.tokens[column as TokenHolder] });
}

/** The columns a single request answers; the ended sessions need the clock moved (endedSessions). */
const cells = columns.filter((column): column is Exclude<Column, 'idleSession' | 'oldSession'> => column !== 'idleSession' && column !== 'oldSession');

/** Every column's answer to one row; the bodies too, for the personal-data check. */
async function answersTo(newWorld: () => Promise<SiteWorld>, row: Row, expects: Answers, isPublic: boolean): Promise<Record<Column, Sent>> {
  const answers: Partial<Record<Column, Sent>> = {};
  if (row.method === 'GET') {
    const world = await newWorld();
    for (const column of cells) answers[column] = await cell(world, row, column);
    Object.assign(answers, await endedSessions(world, row, ['idleSession', 'oldSession']));
  } else {
    const changesNothing = (column: Column) => !isPublic && expects[column] >= 400;
    const refusedSite = await newWorld();
    for (const column of cells) answers[column] = await cell(changesNothing(column) ? refusedSite : await newWorld(), row, column);
    Object.assign(answers, await endedSessions(await newWorld(), row, ['idleSession', 'oldSession']));
  }
  return answers as Record<Column, Sent>;
}

/** The members' personal data, in every form the seed holds it. */
const personalData = [site.members.own, site.members.other].flatMap((m) => [m.idNumber, m.name, m.phone, m.address]);

const startApi = useApi();
const newWorld = useSite(startApi);

describe('authorization matrix: every route x every caller over a real socket', () => {
  // The route list (method, path, access) is the same for every central: read once per file,
  // not from a server of its own per row (79 rows: as many API servers started for nothing).
  // Only the list is kept; its handlers are never called after that first test's server closes.
  let served: Promise<Route[]> | undefined;
  function servedRoutes(): Promise<Route[]> {
    served ??= (async () => {
      const api = await startApi();
      const logger = silentLogger();
      const logins = new LoginDesk({ db: api.registry, logger, now: Date.now, failures: api.config.http.loginFailures });
      return apiRoutes({ config: api.config, store: api.store, registry: api.registry, metrics: api.metrics, logger, now: Date.now, logins, liveEvents: new LiveEvents() });
    })();
    return served;
  }

  it('has a row for every route the central serves, and no row for a route it does not', async () => {
    const routes = await servedRoutes();
    expect(routes.length).toBeGreaterThan(0);
    const name = (r: { method?: string; path: string }) => `${r.method ?? 'GET'} ${r.path}`;
    const missing = routes.filter((route) => !rows.some((row) => routeMatches(route, row))).map(name);
    const stray = rows.filter((row) => !routes.some((route) => routeMatches(route, row))).map((row) => `${row.table}: ${name(row)}`);
    expect({ missing, stray }).toEqual({ missing: [], stray: [] });
  });

  it('runs every table in test/broker/api/authz/', () => {
    const folder = fileURLToPath(new URL('./authz/', import.meta.url));
    const files = readdirSync(folder)
      .filter((file) => file.endsWith('.ts') && file !== 'row.ts')
      .map((file) => file.slice(0, -3));
    expect(Object.keys(tables).sort()).toEqual(files.sort());
  });

  it('has no two rows for the same request', () => {
    const keys = rows.map((row) => `${row.method} ${row.path} ${JSON.stringify(row.body ?? null)}`);
    expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
  });

  const label = (row: Row): string => `${row.method} ${row.path}${row.body === undefined ? '' : ` ${JSON.stringify(row.body).slice(0, 60)}`}`;
  it.each(rows.map((row) => [row.table, label(row), row] as const))(
    '%s: %s answers every caller as written',
    async (_table, _label, row) => {
      const route = (await servedRoutes()).find((r) => routeMatches(r, row));
      expect(route, 'a route for this row').toBeDefined();
      const isPublic = route!.access === 'public';
      const expects = expected(row, isPublic);
      const answers = await answersTo(newWorld, row, expects, isPublic);
      const statuses = Object.fromEntries(columns.map((column) => [column, answers[column].status])) as Answers;
      expect(statuses).toEqual(expects);
      // No one without a role that may see people, and no refused request, gets any of them.
      for (const column of columns) {
        const mayHoldPeople = ['admin', 'managerOwn', 'managerOther', 'guard', 'guardOther', 'readOnly'].includes(column) && answers[column].status < 300;
        if (mayHoldPeople) continue;
        expect(personalData.filter((value) => answers[column].body.includes(value)).map((value) => `${column}: ${value}`)).toEqual([]);
      }
    },
    // A login row checks 14 passwords (scrypt), each on a fresh server: at load 28 the two
    // POST /api/session rows ran past 60 s. The suite's outer bound, not a speed claim.
    120_000,
  );
});

interface LoggedEvent {
  readonly checkpointCode: string;
  readonly member: Record<string, unknown> | null;
}

describe('authorization matrix: personal data across units', () => {
  it("shows a manager another unit's member passing its own gate as such, by masked ID, and nothing more", async () => {
    const world = await newWorld();
    for (const [manager, gate, mine, theirs, theirUnit] of [
      ['managerOwn', site.checkpoints.own, site.members.own, site.members.other, site.units.other],
      ['managerOther', site.checkpoints.other, site.members.other, site.members.own, site.units.own],
    ] as const) {
      const response = await world.api.get(`/api/events?checkpoint=${gate}`, { token: world.tokens[manager] });
      expect(response.status).toBe(200);
      const body = await response.text();
      const { events } = JSON.parse(body) as { events: LoggedEvent[] };
      // Its own member in full, the other unit's as such.
      expect(events).toHaveLength(2);
      expect(events.map((e) => e.member)).toEqual(
        expect.arrayContaining([
          { otherUnit: true, unit: theirUnit, idMasked: `*********${theirs.idNumber.slice(-3)}` },
          expect.objectContaining({ name: mine.name, phone: mine.phone, address: mine.address }),
        ]),
      );
      expect([theirs.name, theirs.phone, theirs.address, theirs.idNumber].filter((value) => body.includes(value))).toEqual([]);
      // Unfiltered, the log is the unit's gate only: the other gate's events are not there at all.
      const all = (await (await world.api.get('/api/events', { token: world.tokens[manager] })).json()) as { events: LoggedEvent[] };
      expect(all.events.map((e) => e.checkpointCode)).toEqual([gate, gate]);
    }
  });

  it('gives an inspector counts and never a person: 403 on the log, no personal data in any answer', async () => {
    const world = await newWorld();
    const token = world.tokens.inspector;
    for (const path of ['/api/events', `/api/events?checkpoint=${site.checkpoints.own}`]) {
      const response = await world.api.get(path, { token });
      expect(response.status).toBe(403);
    }
    const answers: string[] = [];
    for (const row of rows.filter((r) => r.method === 'GET')) {
      const response = await world.api.get(row.path, { token });
      const body = await response.text();
      answers.push(...personalData.filter((value) => body.includes(value)).map((value) => `${row.path}: ${value}`));
    }
    expect(answers).toEqual([]);
    // It does read counts: the check above looked at real answers.
    const stats = (await (await world.api.get(`/api/checkpoints/${site.checkpoints.own}/stats`, { token })).json()) as { lastHour: number };
    expect(stats.lastHour).toBe(2);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sessionCookieName } from '../../../broker/access/sessions.js';
import { addUser } from '../../../broker/access/users.js';
import { run as checkpointsRetire } from '../../../cli/commands/checkpointsRetire.js';
import { parseCheckpointCode } from '../../../protocol/checkpointCode.js';
import { cliContext } from '../../helpers/cliContext.js';
import { testCertificate, testCertificateKey } from '../mqtt/centralFixture.js';
import { useApi } from './apiHarness.js';
import { site } from './authz/row.js';
import { MINUTE, T0, useSite, type SiteWorld } from './authzSite.js';

/**
 * The browser session's defences (issue 12 point 4, STYLE.md "a session cookie needs
 * HttpOnly, SameSite and CSRF protection on every state change") over real sockets: the
 * cookie's attributes with and without TLS, fixation, CSRF, logout, idle and absolute
 * expiry, the login throttle, and the open routes' rate limit.
 */

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly json: Record<string, unknown>;
}

interface Send {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** The client's own address: any of 127/8 reaches the server, and each is a different caller to it. */
  readonly from?: string;
}

/** One request on its own connection, byte for byte what is asked (fetch would add Origin-less defaults and hide Set-Cookie details). */
function send(world: SiteWorld, path: string, init: Send = {}): Promise<Answer> {
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  const headers = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers };
  const tls = world.api.config.http.tls !== undefined;
  const options = { host: '127.0.0.1', port: world.api.port, method: init.method ?? 'GET', path, headers, agent: false, localAddress: init.from ?? '127.0.0.1', ...(tls ? { ca: testCertificate } : {}) } as const;
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The session cookie an answer sets: its value and its attributes, lower-cased. */
function sessionCookie(answer: Answer): { readonly value: string; readonly attributes: string[] } {
  const line = (answer.headers['set-cookie'] ?? []).find((cookie) => cookie.startsWith(`${sessionCookieName}=`));
  expect(line, 'a Set-Cookie for the session').toBeDefined();
  const [pair, ...attributes] = line!.split(';').map((part) => part.trim());
  return { value: pair!.slice(sessionCookieName.length + 1), attributes: attributes.map((a) => a.toLowerCase()) };
}

const cookie = (value: string) => ({ cookie: `${sessionCookieName}=${value}` });
const rightPassword = { username: site.user.username, password: site.user.password };

async function login(world: SiteWorld, init: Send = {}): Promise<{ readonly id: string; readonly csrfToken: string; readonly answer: Answer }> {
  const answer = await send(world, '/api/session', { method: 'POST', body: rightPassword, ...init });
  expect(answer.status).toBe(200);
  return { id: sessionCookie(answer).value, csrfToken: answer.json.csrfToken as string, answer };
}

const startApi = useApi();

describe('session cookie and CSRF over plain HTTP', () => {
  const newWorld = useSite(startApi);

  it('sets an HttpOnly, SameSite=Strict cookie for the whole site, not Secure over plain HTTP', async () => {
    const world = await newWorld();
    const { answer } = await login(world);
    const { value, attributes } = sessionCookie(answer);
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
    expect(attributes.filter((a) => a === 'secure')).toEqual([]);
    expect(answer.json).toMatchObject({ kind: 'user', username: site.user.username, role: 'admin', csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    // The answer never carries the session id itself outside the cookie.
    expect(answer.body).not.toContain(value);
  });

  it('never promotes a cookie planted before login: a fresh id is issued, and the planted one opens nothing', async () => {
    const world = await newWorld();
    const planted = 'A'.repeat(43);
    expect((await send(world, '/api/session', { headers: cookie(planted) })).status).toBe(401);
    const { id } = await login(world, { headers: cookie(planted) });
    expect(id).not.toBe(planted);
    expect((await send(world, '/api/session', { headers: cookie(planted) })).status).toBe(401);
    expect((await send(world, '/api/session', { headers: cookie(id) })).json).toMatchObject({ username: site.user.username });
  });

  it('refuses a cookie-borne change without the CSRF token or from another origin, and a bearer needs neither', async () => {
    const world = await newWorld();
    const { id, csrfToken } = await login(world);

    const bare = await send(world, '/api/session', { method: 'DELETE', headers: cookie(id) });
    expect(bare.status).toBe(403);
    expect(bare.json).toMatchObject({ error: 'forbidden', reason: expect.stringMatching(/^csrf: /) });
    const wrong = await send(world, '/api/session', { method: 'DELETE', headers: { ...cookie(id), 'x-csrf-token': csrfToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) } });
    expect(wrong.status).toBe(403);
    const foreign = await send(world, '/api/session', { method: 'DELETE', headers: { ...cookie(id), 'x-csrf-token': csrfToken, origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.json).toMatchObject({ error: 'forbidden', reason: expect.stringMatching(/^csrf: a request from https:\/\/evil\.example/) });
    // None of them ended the session.
    expect((await send(world, '/api/session', { headers: cookie(id) })).status).toBe(200);

    // A login form posted from another site is refused too.
    const crossSiteLogin = await send(world, '/api/session', { method: 'POST', body: rightPassword, headers: { origin: 'https://evil.example' } });
    expect(crossSiteLogin.status).toBe(403);
    expect(crossSiteLogin.headers['set-cookie']).toBeUndefined();

    // The token a GET answers is the login's, and it works from this central's own origin.
    expect((await send(world, '/api/session', { headers: cookie(id) })).json.csrfToken).toBe(csrfToken);
    const ok = await send(world, '/api/session', { method: 'DELETE', headers: { ...cookie(id), 'x-csrf-token': csrfToken, origin: world.api.base } });
    expect(ok.status).toBe(200);

    // A bearer token is never sent by a browser on its own: no CSRF token, any Origin; the route itself answers.
    const bearer = await send(world, '/api/session', { method: 'DELETE', headers: { authorization: `Bearer ${world.tokens.admin}`, origin: 'https://evil.example' } });
    expect(bearer.status).toBe(400);
    expect(bearer.json).toMatchObject({ error: 'bad-request', reason: expect.stringMatching(/^no session to end/) });
  });

  it('ends the session at the central on logout: the old cookie value is refused afterwards', async () => {
    const world = await newWorld();
    const { id, csrfToken } = await login(world);
    const other = await login(world);
    const logout = await send(world, '/api/session', { method: 'DELETE', headers: { ...cookie(id), 'x-csrf-token': csrfToken } });
    expect(logout.status).toBe(200);
    // The browser is told to drop it…
    const cleared = sessionCookie(logout);
    expect(cleared.value).toBe('');
    expect(cleared.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
    // …and a copy kept anyway opens nothing.
    const replay = await send(world, '/api/session', { headers: cookie(id) });
    expect(replay.status).toBe(401);
    expect(replay.json).toMatchObject({ error: 'unauthorized' });
    expect((await send(world, '/api/events', { headers: cookie(id) })).status).toBe(401);
    // Another session of the same user lives on.
    expect((await send(world, '/api/session', { headers: cookie(other.id) })).status).toBe(200);
  });

  it('ends a session after 30 idle minutes, however young it is', async () => {
    const world = await newWorld();
    const { id } = await login(world);
    world.advance(29 * MINUTE);
    expect((await send(world, '/api/session', { headers: cookie(id) })).status).toBe(200);
    world.advance(29 * MINUTE); // 58 minutes old, 29 idle: alive
    expect((await send(world, '/api/session', { headers: cookie(id) })).status).toBe(200);

    const idle = await login(world);
    world.advance(30 * MINUTE);
    const refused = await send(world, '/api/session', { headers: cookie(idle.id) });
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ error: 'unauthorized', reason: expect.stringMatching(/^your session has ended/) });
    // Gone for good: the clock going back does not revive it.
    world.advance(-10 * MINUTE);
    expect((await send(world, '/api/session', { headers: cookie(idle.id) })).status).toBe(401);
  });

  it('ends a session one hour after login, however busy it is', async () => {
    const world = await newWorld();
    const { id } = await login(world);
    for (let minutes = 0; minutes < 59; minutes += 20) {
      expect((await send(world, '/api/session', { headers: cookie(id) })).status).toBe(200);
      world.advance(20 * MINUTE);
    }
    // 60 minutes after login, 20 since the last request.
    expect(world.clock.t - T0).toBe(60 * MINUTE);
    expect((await send(world, '/api/session', { headers: cookie(id) })).status).toBe(401);
    // A new login is a new hour.
    const again = await login(world);
    expect((await send(world, '/api/session', { headers: cookie(again.id) })).status).toBe(200);
  });
});

describe('session cookie over TLS', () => {
  const certDir = mkdtempSync(join(tmpdir(), 'qrgate-tls-'));
  writeFileSync(join(certDir, 'cert.pem'), testCertificate);
  writeFileSync(join(certDir, 'key.pem'), testCertificateKey);
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));
  const newWorld = useSite(startApi, { tls: { cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') } });

  it('marks the cookie Secure when the central serves HTTPS', async () => {
    const world = await newWorld();
    expect(world.api.base).toMatch(/^https:/);
    const { answer, id, csrfToken } = await login(world);
    expect(sessionCookie(answer).attributes).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=strict', 'path=/']));
    const logout = await send(world, '/api/session', { method: 'DELETE', headers: { ...cookie(id), 'x-csrf-token': csrfToken, origin: world.api.base } });
    expect(logout.status).toBe(200);
    expect(sessionCookie(logout).attributes).toContain('secure');
  });
});

describe('login throttle', () => {
  // Two free failures, then a minute's wait; the server's clock is the test's.
  const newWorld = useSite(startApi, {
    loginFailures: { freeFailures: 2, baseDelayMs: 60_000, maxDelayMs: 60_000, windowMs: 15 * MINUTE, maxSources: 100, maxPendingRefusals: 10 },
  });
  const other = { username: 'guard-lan', password: 'another long password' };
  const wrong = (username: string) => ({ username, password: 'not the password' });

  async function withSecondUser(): Promise<SiteWorld> {
    const world = await newWorld();
    await addUser(world.api.registry, { username: other.username, role: 'guard', checkpoints: [site.checkpoints.own], password: other.password });
    return world;
  }

  const attempt = (world: SiteWorld, from: string, body: unknown) => send(world, '/api/session', { method: 'POST', body, from });

  it('per username: past the free failures, even the right password waits, from any address; other users are unaffected', async () => {
    const world = await withSecondUser();
    // Three failures for one username, each from its own address: no address is past its free failures.
    for (const from of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) expect((await attempt(world, from, wrong(site.user.username))).status).toBe(401);

    const refused = await attempt(world, '127.0.0.14', rightPassword);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.json).toEqual({ error: 'rate-limited', reason: 'too many failed logins for this username or address: try again in 60 s' });
    expect(refused.headers['set-cookie']).toBeUndefined();
    // A different username from another address logs in at once.
    expect((await attempt(world, '127.0.0.15', other)).status).toBe(200);

    world.advance(30_000);
    const later = await attempt(world, '127.0.0.14', rightPassword);
    expect([later.status, later.headers['retry-after']]).toEqual([429, '30']);
    world.advance(30_000);
    expect((await attempt(world, '127.0.0.14', rightPassword)).status).toBe(200);
  });

  it('per address: past the free failures, no username is even checked from there; other addresses are unaffected', async () => {
    const world = await withSecondUser();
    for (const username of ['nobody-1', 'nobody-2', 'nobody-3']) expect((await attempt(world, '127.0.0.21', wrong(username))).status).toBe(401);

    for (const body of [rightPassword, other]) {
      const refused = await attempt(world, '127.0.0.21', body);
      expect([refused.status, refused.headers['retry-after']]).toEqual([429, '60']);
    }
    expect((await attempt(world, '127.0.0.22', other)).status).toBe(200);
    expect((await attempt(world, '127.0.0.22', rightPassword)).status).toBe(200);

    world.advance(60_000);
    expect((await attempt(world, '127.0.0.21', rightPassword)).status).toBe(200);
  });

  it('refuses a throttled attempt without checking the password: a wrong one is not counted again', async () => {
    const world = await withSecondUser();
    for (let i = 0; i < 3; i++) expect((await attempt(world, '127.0.0.31', wrong(site.user.username))).status).toBe(401);
    // Refused while waiting, before any password check: a checked failure is logged (api.login-failed), these are not.
    for (let i = 0; i < 5; i++) expect((await attempt(world, '127.0.0.31', wrong(site.user.username))).status).toBe(429);
    expect(world.api.log.messages('api.login-failed')).toHaveLength(3);
    world.advance(60_000);
    expect((await attempt(world, '127.0.0.31', rightPassword)).status).toBe(200);
  });
});

describe('open routes', () => {
  const newWorld = useSite(startApi, { publicLookupsPerMinute: 3 });

  it('limits the public lookup per address: the 4th in a minute is 429, /healthz and other addresses stay open', async () => {
    const world = await newWorld();
    const path = `/api/public/checkpoints/${site.checkpoints.own}/stats`;
    for (let i = 0; i < 3; i++) {
      const answer = await send(world, path, { from: '127.0.0.41' });
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ code: site.checkpoints.own, name: 'Cổng May', lastHour: 2, lastDay: 2, lastWeek: 2, lastMonth: 2 });
    }
    const limited = await send(world, path, { from: '127.0.0.41' });
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ error: 'rate-limited', reason: expect.stringMatching(/^too many requests from this address: at most 3 a minute; try again in \d+ s$/) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // A mistyped code counts too: the limit is on looking, not on finding.
    expect((await send(world, `/api/public/checkpoints/${site.unregisteredCheckpoint}/stats`, { from: '127.0.0.41' })).status).toBe(429);

    for (let i = 0; i < 10; i++) expect((await send(world, '/healthz', { from: '127.0.0.41' })).status).toBe(200);
    expect((await send(world, path, { from: '127.0.0.42' })).status).toBe(200);
  });

  it('answers a mistyped code with the message the CLI prints for it', async () => {
    const world = await newWorld();
    const code = site.checkpoints.own;
    // One digit mistyped, and two neighbours swapped: the Damm check digit catches both.
    const typos = [`${code.slice(0, 5)}${(Number(code[5]) + 1) % 10}${code.slice(6)}`, `${code.slice(0, 12)}${code[13]}${code[12]}`];
    for (const [i, typo] of typos.entries()) {
      expect(typo).not.toBe(code);
      const cli = cliContext(['--central-config', world.api.config.file, '--code', typo]);
      const printed = await checkpointsRetire(cli.ctx).then(
        () => 'no error',
        (err: Error) => err.message,
      );
      expect(printed).toMatch(/fails its check digit/);
      expect(() => parseCheckpointCode(typo)).toThrow(printed);
      const answer = await send(world, `/api/public/checkpoints/${typo}/stats`, { from: `127.0.0.${50 + i}` });
      expect(answer.status).toBe(400);
      expect(answer.json).toEqual({ error: 'bad-request', reason: `code: ${printed}` });
    }
  });
});

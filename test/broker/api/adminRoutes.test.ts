import { dirname, join } from 'node:path';
import jsQRModule from 'jsqr';
import { describe, expect, it } from 'vitest';
import { cliActor } from '../../../broker/access/audit.js';
import { createToken } from '../../../broker/access/tokens.js';
import { hashPassword } from '../../../broker/access/passwords.js';
import { addUser } from '../../../broker/access/users.js';
import { hashSecret, verifySecret } from '../../../broker/auth/secrets.js';
import { run as checkpointsRetire } from '../../../cli/commands/checkpointsRetire.js';
import { run as usersAdd } from '../../../cli/commands/usersAdd.js';
import { parseEnrollmentQr } from '../../../protocol/enrollment.js';
import { cliContext } from '../../helpers/cliContext.js';
import { decodePng } from '../../helpers/png.js';
import { checkpointCode, CP_A, CP_B } from '../store/scanEvents.js';
import { useApi, type Api } from './apiHarness.js';

type Caller = 'anonymous' | 'admin' | 'managerOwn' | 'managerOther' | 'guard' | 'inspector';

/** The site these tests stand on (who may call what is the authorization matrix's: authz/adminRoutes.ts). */
const f = {
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

// jsqr is CommonJS: its function is the default export's default.
const jsQR = jsQRModule.default;
const NOW = Date.UTC(2025, 4, 31, 12);

/**
 * Hashed once for every seeded central: scrypt at password strength takes ~0.5 s here, and
 * every test seeds its own central.
 */
let seedHashes: Promise<{ readonly password: string; readonly terminal: string }> | undefined;
const hashesForSeeds = () => (seedHashes ??= Promise.all([hashPassword('mật khẩu đủ dài'), hashSecret('old secret of gate a')]).then(([password, terminal]) => ({ password, terminal })));

interface Answer {
  readonly status: number;
  readonly json: any;
  readonly headers: Headers;
}

describe('admin routes', () => {
  const startApi = useApi();

  /** The central as adminRoutesFixture describes it, with a bearer token per caller. */
  async function startSeeded(): Promise<Api & { tokens: Record<Caller, string | null>; call: (method: string, path: string, body?: unknown, token?: string | null) => Promise<Answer> }> {
    const api = await startApi({ nowMs: NOW });
    await api.store.createCheckpoint({ code: f.ownCheckpoint, name: 'Cổng A', direction: 'in', confirm: 'auto', unit: f.ownUnit });
    await api.store.createCheckpoint({ code: f.otherCheckpoint, name: 'Cổng B', direction: 'both', confirm: 'manual', unit: f.otherUnit });
    const hashes = await hashesForSeeds();
    await api.store.addTerminal({ terminalId: f.terminalId, checkpointCode: f.ownCheckpoint, secretHash: hashes.terminal, listScopes: ['default'] });
    // As addUser writes it, with the hash made once (above).
    api.db
      .prepare("INSERT INTO users (username, password_hash, role, unit, checkpoints, created_at_ms, password_changed_at_ms) VALUES (?, ?, 'inspector', NULL, '[]', ?, ?)")
      .run(f.username, hashes.password, NOW, NOW);
    const token = async (role: string, scope: { unit?: string; checkpoints?: string[] } = {}) => (await createToken(api.registry, { name: role, role, ...scope, createdBy: 'test' })).token;
    const tokens: Record<Caller, string | null> = {
      anonymous: null,
      admin: api.adminToken,
      managerOwn: await token('manager', { unit: f.ownUnit }),
      managerOther: await token('manager', { unit: f.otherUnit }),
      guard: await token('guard', { checkpoints: [f.guardCheckpoint] }),
      inspector: await token('inspector'),
    };
    const call = async (method: string, path: string, body?: unknown, bearer: string | null = api.adminToken): Promise<Answer> => {
      const response = await api.get(path, {
        method,
        token: bearer,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await response.text();
      return { status: response.status, json: text === '' ? null : JSON.parse(text), headers: response.headers };
    };
    return { ...api, tokens, call };
  }

  const auditRows = (api: Api, action: string) =>
    api.db.prepare<[string], { actor: string; target: string; details: string; source: string }>('SELECT actor, target, details, source FROM audit_log WHERE action = ? ORDER BY id').all(action);

  describe('checkpoints', () => {
    it('an admin creates in any unit; a manager creates in its own, and naming another unit is 403 with nothing created', async () => {
      const api = await startSeeded();
      const byAdmin = await api.call('POST', '/api/checkpoints', { name: 'Cổng phụ', direction: 'out', confirm: 'manual', unit: f.otherUnit, latitude: 16.46, longitude: 107.59 });
      expect(byAdmin.status).toBe(201);
      expect(byAdmin.json.checkpoint).toMatchObject({ name: 'Cổng phụ', unit: f.otherUnit, direction: 'out', confirm: 'manual', latitude: 16.46, retiredAt: null });
      expect(byAdmin.json.checkpoint.code).toMatch(/^\d{14}$/);

      const byManager = await api.call('POST', '/api/checkpoints', { name: 'Cổng xưởng 2', direction: 'in', confirm: 'auto' }, api.tokens.managerOwn);
      expect(byManager.status).toBe(201);
      expect(byManager.json.checkpoint.unit).toBe(f.ownUnit);

      const before = (await api.store.listCheckpoints()).length;
      const elsewhere = await api.call('POST', '/api/checkpoints', { name: 'X', direction: 'in', confirm: 'auto', unit: f.otherUnit }, api.tokens.managerOwn);
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.json).toEqual({ error: 'forbidden', reason: `a manager of ${f.ownUnit} cannot create a checkpoint in another unit` });
      expect(await api.store.listCheckpoints()).toHaveLength(before);
    });

    it('refuses bad fields by name, as the CLI does, and creates nothing', async () => {
      const api = await startSeeded();
      const bad = await api.call('POST', '/api/checkpoints', { name: ' ', direction: 'sideways', confirm: 'auto', latitude: 91, longitude: 0 });
      expect(bad.status).toBe(400);
      expect(bad.json.reason).toBe('name: the name must not be empty; direction: must be in | out | both; latitude: must be from -90 to 90');
      expect((await api.call('POST', '/api/checkpoints', { name: 'A', direction: 'in' })).json.reason).toMatch(/^confirm: /);
      expect((await api.call('POST', '/api/checkpoints', { name: 'A', direction: 'in', confirm: 'auto', code: '1' })).json.reason).toBe('code: unknown parameter');
      expect(await api.store.listCheckpoints()).toHaveLength(2);
    });

    it('PATCH changes the given fields and answers which; a manager cannot move its checkpoint away nor touch another unit\'s', async () => {
      const api = await startSeeded();
      const renamed = await api.call('PATCH', `/api/checkpoints/${f.ownCheckpoint}`, { name: 'Cổng chính', confirm: 'auto', unit: f.ownUnit }, api.tokens.managerOwn);
      expect(renamed.status).toBe(200);
      expect(renamed.json).toMatchObject({ checkpoint: { code: f.ownCheckpoint, name: 'Cổng chính', unit: f.ownUnit }, changed: ['name'] });

      const moved = await api.call('PATCH', `/api/checkpoints/${f.ownCheckpoint}`, { unit: f.otherUnit }, api.tokens.managerOwn);
      expect(moved).toMatchObject({ status: 403, json: { reason: `a manager of ${f.ownUnit} cannot move a checkpoint to another unit` } });
      expect((await api.call('PATCH', `/api/checkpoints/${f.otherCheckpoint}`, { name: 'Mine now' }, api.tokens.managerOwn)).status).toBe(403);
      expect((await api.store.getCheckpoint(f.ownCheckpoint))!.unit).toBe(f.ownUnit);

      expect((await api.call('PATCH', `/api/checkpoints/${f.ownCheckpoint}`, {})).json.reason).toMatch(/^body: nothing to change/);
      expect((await api.call('PATCH', '/api/checkpoints/12345678901234', { name: 'x' })).status).toBe(400);
      expect((await api.call('PATCH', `/api/checkpoints/${checkpointCode('2000000000000')}`, { name: 'x' })).status).toBe(404);
    });

    it('retire retires once; a retired checkpoint cannot be changed or retired again', async () => {
      const api = await startSeeded();
      const retired = await api.call('POST', `/api/checkpoints/${f.ownCheckpoint}/retire`, undefined, api.tokens.managerOwn);
      expect(retired.status).toBe(200);
      expect(retired.json.checkpoint.retiredAt).not.toBeNull();
      expect((await api.call('POST', `/api/checkpoints/${f.ownCheckpoint}/retire`)).status).toBe(409);
      expect((await api.call('PATCH', `/api/checkpoints/${f.ownCheckpoint}`, { name: 'x' })).status).toBe(409);
    });
  });

  describe('terminals', () => {
    it('rotate-secret answers a new secret once (no-store); the old one stops verifying', async () => {
      const api = await startSeeded();
      const rotated = await api.call('POST', `/api/terminals/${f.terminalId}/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect(rotated.headers.get('cache-control')).toBe('no-store');
      const stored = (await api.store.getTerminalCredentials(f.terminalId))!;
      expect(await verifySecret(rotated.json.password, stored.secretHash)).toBe(true);
      expect(await verifySecret('old secret of gate a', stored.secretHash)).toBe(false);
      expect(JSON.stringify(auditRows(api, 'terminal.rotate-secret'))).not.toContain(rotated.json.password);
    });

    it('DELETE removes a terminal once; unknown is 404, a bad id 400', async () => {
      const api = await startSeeded();
      expect(await api.call('DELETE', `/api/terminals/${f.terminalId}`)).toMatchObject({ status: 200, json: { terminalId: f.terminalId, removed: true } });
      expect((await api.store.getTerminalCredentials(f.terminalId))!.removedAt).not.toBeNull();
      expect((await api.call('DELETE', `/api/terminals/${f.terminalId}`)).status).toBe(409);
      expect((await api.call('DELETE', '/api/terminals/nobody')).status).toBe(404);
      expect((await api.call('DELETE', '/api/terminals/%20bad')).status).toBe(400);
    });

    it('enroll-qr answers a PNG (base64) or an SVG holding the signed payload, and registers its token', async () => {
      const api = await startSeeded();
      const png = await api.call('POST', '/api/terminals/enroll-qr', { checkpoint: f.ownCheckpoint, url: 'mqtt://10.0.0.5:1883', lists: ['default', 'staff'], ttlS: 600, format: 'png' });
      expect(png.status).toBe(201);
      expect(png.headers.get('cache-control')).toBe('no-store');
      expect(png.json).toMatchObject({ checkpoint: f.ownCheckpoint, lists: ['default', 'staff'], format: 'png', expiresAt: new Date(NOW + 600_000).toISOString() });
      const { width, height, rgba } = decodePng(Buffer.from(png.json.image, 'base64'));
      expect(jsQR(rgba, width, height)?.data).toBe(png.json.payload);
      const parsed = parseEnrollmentQr(png.json.payload);
      expect(parsed.ok && parsed.qr.body).toMatchObject({ checkpoint: f.ownCheckpoint, url: 'mqtt://10.0.0.5:1883' });

      const svg = await api.call('POST', '/api/terminals/enroll-qr', { checkpoint: f.ownCheckpoint, url: 'mqtt://10.0.0.5:1883', format: 'svg' });
      expect(svg.json.image).toMatch(/^<svg /);
      expect(api.db.prepare('SELECT count(*) FROM enrollment_tokens').pluck().get()).toBe(2);

      expect((await api.call('POST', '/api/terminals/enroll-qr', { checkpoint: f.ownCheckpoint, url: 'mqtt://x:1', format: 'gif' })).json.reason).toBe('format: expected png or svg');
      expect((await api.call('POST', '/api/terminals/enroll-qr', { checkpoint: f.ownCheckpoint, url: 'http://x', format: 'svg' })).json.reason).toMatch(/^url: http:\/\/x: /);
      expect((await api.call('POST', '/api/terminals/enroll-qr', { checkpoint: f.ownCheckpoint, url: 'mqtt://x:1', ttlS: 0, format: 'svg' })).json.reason).toMatch(/^ttlS: must be a whole number/);
      await api.call('POST', `/api/checkpoints/${f.ownCheckpoint}/retire`);
      expect((await api.call('POST', '/api/terminals/enroll-qr', { checkpoint: f.ownCheckpoint, url: 'mqtt://x:1', format: 'svg' })).status).toBe(409);
      expect(api.db.prepare('SELECT count(*) FROM enrollment_tokens').pluck().get()).toBe(2);
      const entries = auditRows(api, 'terminal.enroll-qr');
      expect(entries).toHaveLength(2);
      expect(JSON.stringify(entries)).not.toContain(png.json.payload);
    });
  });

  describe('users', () => {
    async function login(api: Api, username: string, password: string) {
      const response = await fetch(`${api.base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
      const cookie = response.headers.getSetCookie()[0]?.split(';')[0] ?? '';
      return { status: response.status, cookie, csrf: response.status === 200 ? ((await response.json()) as { csrfToken: string }).csrfToken : '' };
    }

    it('a generated password is answered once and works for a login; a given one is never answered', async () => {
      const api = await startSeeded();
      const added = await api.call('POST', '/api/users', { username: 'lan', role: 'manager', unit: f.ownUnit });
      expect(added.status).toBe(201);
      expect(added.headers.get('cache-control')).toBe('no-store');
      expect(added.json.user).toEqual({ username: 'lan', role: 'manager', unit: f.ownUnit, checkpoints: [], createdAt: expect.any(String), passwordChangedAt: expect.any(String), disabledAt: null });
      expect((await login(api, 'lan', added.json.password)).status).toBe(200);

      const given = await api.call('POST', '/api/users', { username: 'binh', role: 'guard', checkpoints: [f.ownCheckpoint], password: 'một mật khẩu dài' });
      expect(given.status).toBe(201);
      expect(given.json.password).toBeUndefined();
      expect((await api.call('GET', '/api/users')).json.users.map((u: { username: string }) => u.username)).toEqual(['binh', f.username, 'lan']);
      expect((await api.call('POST', '/api/users', { username: 'lan', role: 'inspector' })).status).toBe(409);
      expect((await api.call('POST', '/api/users', { username: 'x y', role: 'boss', unit: 'u' })).status).toBe(400);
      expect((await api.call('POST', '/api/users', { username: 'short', role: 'inspector', password: 'short' })).json).toEqual({
        error: 'bad-request',
        reason: 'the password has 5 characters; at least 12 are needed',
      });
      // Neither password reaches the audit log or the log lines.
      const everything = JSON.stringify([api.db.prepare('SELECT * FROM audit_log').all(), api.log.lines]);
      expect(everything).not.toContain(added.json.password);
      expect(everything).not.toContain('một mật khẩu dài');
      expect(auditRows(api, 'user.add')).toEqual([
        { actor: `token:${api.adminToken.slice(4, 14)}`, target: 'lan', details: JSON.stringify({ role: 'manager', unit: f.ownUnit, passwordGenerated: true }), source: '127.0.0.1' },
        { actor: `token:${api.adminToken.slice(4, 14)}`, target: 'binh', details: JSON.stringify({ role: 'guard', checkpoints: [f.ownCheckpoint], passwordGenerated: false }), source: '127.0.0.1' },
      ]);
    });

    it('set-password ends the sessions and answers a generated one once; disable refuses logins; remove deletes', async () => {
      const api = await startSeeded();
      const session = await login(api, f.username, 'mật khẩu đủ dài');
      expect(session.status).toBe(200);
      const changed = await api.call('POST', `/api/users/${f.username}/password`, {});
      expect(changed.status).toBe(200);
      expect((await fetch(`${api.base}/api/session`, { headers: { cookie: session.cookie } })).status).toBe(401);
      expect((await login(api, f.username, changed.json.password)).status).toBe(200);
      expect((await api.call('POST', `/api/users/${f.username}/password`, { password: 'mật khẩu mới đủ dài' })).json).toEqual({ username: f.username });

      expect((await api.call('POST', `/api/users/${f.username}/disable`)).json.user.disabledAt).not.toBeNull();
      expect((await login(api, f.username, 'mật khẩu mới đủ dài')).status).toBe(401);
      expect(await api.call('DELETE', `/api/users/${f.username}`)).toMatchObject({ status: 200, json: { username: f.username, removed: true } });
      expect((await api.call('DELETE', `/api/users/${f.username}`)).status).toBe(404);
      expect((await api.call('POST', '/api/users/nobody/disable')).status).toBe(404);
    });

    it('an admin cannot disable or remove themself (409); another admin can', async () => {
      const api = await startSeeded();
      await addUser(api.registry, { username: 'root.admin', role: 'admin', password: 'mật khẩu quản trị' });
      const me = await login(api, 'root.admin', 'mật khẩu quản trị');
      const asMe = (method: string, path: string) => fetch(`${api.base}${path}`, { method, headers: { cookie: me.cookie, 'x-csrf-token': me.csrf } });
      const disabled = await asMe('POST', '/api/users/root.admin/disable');
      expect(disabled.status).toBe(409);
      expect(await disabled.json()).toEqual({ error: 'conflict', reason: 'you cannot disable yourself: ask another admin, or use qrgate users on the central' });
      expect((await asMe('DELETE', '/api/users/root.admin')).status).toBe(409);
      expect((await asMe('POST', `/api/users/${f.username}/disable`)).status).toBe(200);
      expect((await api.call('DELETE', '/api/users/root.admin')).status).toBe(200);
      expect(auditRows(api, 'user.disable')).toEqual([{ actor: 'user:root.admin', target: f.username, details: '{}', source: '127.0.0.1' }]);
    });
  });

  describe('tokens', () => {
    it('a created token is answered once and works as Bearer until DELETE revokes it; the list never holds it', async () => {
      const api = await startSeeded();
      const created = await api.call('POST', '/api/tokens', { name: 'Xuất dữ liệu', role: 'manager', unit: f.ownUnit, expiresDays: 30 });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ name: 'Xuất dữ liệu', role: 'manager', unit: f.ownUnit, readOnly: false, expiresAt: new Date(NOW + 30 * 86_400_000).toISOString() });
      const { token, tokenId } = created.json as { token: string; tokenId: string };
      expect((await api.call('GET', '/api/session', undefined, token)).json).toMatchObject({ kind: 'token', tokenId, role: 'manager' });

      const listed = await api.call('GET', '/api/tokens');
      expect(listed.json.tokens.find((t: { tokenId: string }) => t.tokenId === tokenId)).toEqual({
        tokenId, name: 'Xuất dữ liệu', role: 'manager', unit: f.ownUnit, checkpoints: [], readOnly: false, createdAt: new Date(NOW).toISOString(), expiresAt: created.json.expiresAt, revokedAt: null, lastUsedAt: new Date(NOW).toISOString(),
      });
      expect(JSON.stringify(listed.json)).not.toContain(token.slice(15));

      expect((await api.call('DELETE', `/api/tokens/${tokenId}`)).json).toEqual({ tokenId, revokedAt: new Date(NOW).toISOString() });
      expect((await api.call('GET', '/api/session', undefined, token)).status).toBe(401);
      expect((await api.call('POST', '/api/tokens', { name: 'x', role: 'guard' })).status).toBe(400);
      expect((await api.call('DELETE', '/api/tokens/NOT-AN-ID')).status).toBe(400);
      expect(JSON.stringify([api.db.prepare('SELECT * FROM audit_log').all(), api.log.lines])).not.toContain(token.slice(15));
      expect(auditRows(api, 'token.create')[0]).toMatchObject({ actor: `token:${api.adminToken.slice(4, 14)}`, target: tokenId });
    });
  });

  describe('GET /api/audit', () => {
    it('records who, what and from where for API and CLI changes, newest first, with keyset paging and filters', async () => {
      const api = await startSeeded();
      const centralConfig = join(dirname(api.config.dataDir), 'central.json');
      await api.call('POST', `/api/checkpoints/${f.otherCheckpoint}/retire`, undefined, api.tokens.managerOther);
      await api.call('POST', '/api/tokens', { name: 'prometheus', role: 'inspector', readOnly: true });
      const cli = cliContext(['--central-config', centralConfig, '--code', f.ownCheckpoint]);
      expect(await checkpointsRetire(cli.ctx)).toBe(0);
      const added = cliContext(['--central-config', centralConfig, '--username', 'cli.user', '--role', 'inspector', '--json']);
      expect(await usersAdd(added.ctx)).toBe(0);

      const all = await api.call('GET', '/api/audit');
      expect(all.status).toBe(200);
      const managerId = api.tokens.managerOther!.slice(4, 14);
      expect(all.json.entries.map((e: { actor: string; action: string; target: string; source: string }) => [e.actor, e.action, e.target, e.source])).toEqual([
        [cliActor(), 'user.add', 'cli.user', 'cli'],
        [cliActor(), 'checkpoint.retire', f.ownCheckpoint, 'cli'],
        [`token:${api.adminToken.slice(4, 14)}`, 'token.create', expect.stringMatching(/^[a-z0-9]{10}$/), '127.0.0.1'],
        [`token:${managerId}`, 'checkpoint.retire', f.otherCheckpoint, '127.0.0.1'],
      ]);
      expect(all.json.nextBefore).toBeNull();
      expect(all.json.entries[0].details).toEqual({ role: 'inspector', passwordGenerated: true });
      expect(JSON.stringify(all.json)).not.toContain((JSON.parse(added.out()) as { password: string }).password);

      const first = await api.call('GET', '/api/audit?limit=3');
      expect(first.json.entries).toHaveLength(3);
      const second = await api.call('GET', `/api/audit?limit=3&before=${first.json.nextBefore}`);
      expect(second.json).toMatchObject({ entries: [{ action: 'checkpoint.retire', target: f.otherCheckpoint }], nextBefore: null });
      expect((await api.call('GET', `/api/audit?action=checkpoint.retire&actor=${encodeURIComponent(cliActor())}`)).json.entries).toMatchObject([{ target: f.ownCheckpoint }]);

      expect((await api.call('GET', '/api/audit?limit=0')).status).toBe(400);
      expect((await api.call('GET', '/api/audit?limit=abc')).json.reason).toMatch(/^limit: /);
      expect((await api.call('GET', '/api/audit?before=-1')).status).toBe(400);
      expect((await api.call('GET', '/api/audit?who=me')).json.reason).toBe('who: unknown parameter');
    });
  });
});

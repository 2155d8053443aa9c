import { expect, it } from 'vitest';
import { authFailuresSchema } from '../../../broker/config.js';
import { cliActor, recordAudit, recordCliAudit, searchAudit } from '../../../broker/access/audit.js';
import { LoginDesk } from '../../../broker/access/loginDesk.js';
import { createSession, deleteExpiredSessions, endSession, resolveSession } from '../../../broker/access/sessions.js';
import { createToken, listTokens, principalForToken, revokeToken } from '../../../broker/access/tokens.js';
import { addUser, checkLogin, disableUser, getUser, listUsers, removeUser, setUserPassword } from '../../../broker/access/users.js';
import { acknowledgeAlarm, alarmAcks } from '../../../broker/alarms/alarmAcks.js';
import type { RegistryDb } from '../../../broker/store/sql/registryDb.js';
import { silentLogger } from '../../fakes/captureLogger.js';
import { checkpointCode } from '../store/scanEvents.js';
import { describeOnEachRegistry } from '../../helpers/registryEngines.js';

/**
 * The access area's contract (issue 15 point 4): accounts, sessions, tokens, the audit log
 * and alarm acknowledgements behave the same whichever engine holds the registry. Few
 * passwords are hashed for real (scrypt is slow on purpose); sessions and tokens hang off
 * users written straight into the table.
 */

const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const MINUTE = 60_000;
const policy = { idleMs: 30 * MINUTE, absoluteMs: 60 * MINUTE };
const GATE = checkpointCode('1000000000101');
const UNKNOWN_1 = checkpointCode('1000000000199');
const UNKNOWN_2 = checkpointCode('1000000000198');

async function registerCheckpoint(db: RegistryDb, code: string): Promise<void> {
  await db.run(`INSERT INTO checkpoints (code, name, direction, confirm, created_at_ms) VALUES (?, ?, 'both', 'auto', 0)`, [code, `Cổng ${code}`]);
}

/** A user as addUser leaves one, without the scrypt work: for tests that never log in. */
async function insertUser(db: RegistryDb, username: string, role = 'admin', unit: string | null = null): Promise<void> {
  await db.run(
    `INSERT INTO users (username, password_hash, role, unit, checkpoints, created_at_ms, password_changed_at_ms) VALUES (?, 'not-a-hash', ?, ?, '[]', ?, ?)`,
    [username, role, unit, T0, T0],
  );
}

const sessionCount = (db: RegistryDb) => db.value<number>('SELECT count(*) FROM sessions');

describeOnEachRegistry('access registry', (registry) => {
  it('adds a user with a generated password that logs in, refuses a second of the same name, and a guard of an unregistered checkpoint', async () => {
    const db = registry();
    await registerCheckpoint(db, GATE);
    const { user, generatedPassword } = await addUser(db, { username: 'guard.an', role: 'guard', checkpoints: [GATE] }, T0);
    expect(user).toEqual({
      username: 'guard.an',
      role: 'guard',
      unit: null,
      checkpoints: [GATE],
      createdAt: new Date(T0).toISOString(),
      passwordChangedAt: new Date(T0).toISOString(),
      disabledAt: null,
    });
    expect(generatedPassword).toMatch(/.{16,}/);
    expect((await checkLogin(db, 'guard.an', generatedPassword!))?.username).toBe('guard.an');
    expect(await checkLogin(db, 'guard.an', 'wrong password')).toBeNull();
    expect(await checkLogin(db, 'nobody', generatedPassword!)).toBeNull();
    await expect(addUser(db, { username: 'guard.an', role: 'admin', password: 'another password' })).rejects.toMatchObject({ code: 'user-exists' });
    await expect(addUser(db, { username: 'guard.binh', role: 'guard', checkpoints: [GATE, UNKNOWN_1, UNKNOWN_2] })).rejects.toMatchObject({
      code: 'checkpoint-unknown',
      message: `checkpoints ${UNKNOWN_1}, ${UNKNOWN_2} not registered at this central`,
    });
    expect(await getUser(db, 'guard.binh')).toBeNull();
  });

  it('lists users in byte order of their names on both engines', async () => {
    const db = registry();
    for (const name of ['ab', 'a_b', 'a.b', 'a-b', 'a9', 'b']) await insertUser(db, name);
    expect((await listUsers(db)).map((user) => user.username)).toEqual(['a-b', 'a.b', 'a9', 'a_b', 'ab', 'b']);
  });

  it('ends every session of a user whose password changes, who is disabled, or who is removed', async () => {
    const db = registry();
    await insertUser(db, 'lan');
    await insertUser(db, 'mai', 'manager', 'Tổ 5');
    await insertUser(db, 'hoa');
    const lan = await createSession(db, 'lan', '10.0.0.1', T0);
    const mai = await createSession(db, 'mai', '10.0.0.2', T0);
    const hoa = await createSession(db, 'hoa', '10.0.0.3', T0);
    const { user, generatedPassword } = await setUserPassword(db, 'lan', undefined, T0 + MINUTE);
    expect(user.passwordChangedAt).toBe(new Date(T0 + MINUTE).toISOString());
    expect((await checkLogin(db, 'lan', generatedPassword!))?.username).toBe('lan');
    expect(await resolveSession(db, lan.id, policy, T0 + MINUTE)).toBeNull();
    expect(await resolveSession(db, mai.id, policy, T0 + MINUTE)).not.toBeNull();

    const disabled = await disableUser(db, 'mai', T0 + 2 * MINUTE);
    expect(disabled.disabledAt).toBe(new Date(T0 + 2 * MINUTE).toISOString());
    // Disabling twice keeps the first time.
    expect((await disableUser(db, 'mai', T0 + 3 * MINUTE)).disabledAt).toBe(disabled.disabledAt);
    expect(await resolveSession(db, mai.id, policy, T0 + 3 * MINUTE)).toBeNull();

    expect((await removeUser(db, 'hoa')).username).toBe('hoa');
    expect(await resolveSession(db, hoa.id, policy, T0 + 3 * MINUTE)).toBeNull();
    expect(await getUser(db, 'hoa')).toBeNull();
    expect(await sessionCount(db)).toBe(0);
    await expect(removeUser(db, 'hoa')).rejects.toMatchObject({ code: 'user-unknown' });
    await expect(disableUser(db, 'Not A Name')).rejects.toMatchObject({ code: 'user-invalid' });
  });

  it("resolves a session to its user's scope until it is idle too long or too old, and deletes it when it ends", async () => {
    const db = registry();
    await insertUser(db, 'mai', 'manager', 'Tổ 5');
    const session = await createSession(db, 'mai', '10.0.0.2', T0);
    expect(await resolveSession(db, session.id, policy, T0 + MINUTE)).toEqual({
      principal: { kind: 'user', id: 'mai', role: 'manager', unit: 'Tổ 5', checkpoints: [], readOnly: false },
      expiresAt: new Date(T0 + 31 * MINUTE).toISOString(),
    });
    // Used every 25 minutes, it stays alive until the absolute limit, an hour after login.
    expect(await resolveSession(db, session.id, policy, T0 + 25 * MINUTE)).not.toBeNull();
    expect(await resolveSession(db, session.id, policy, T0 + 50 * MINUTE)).not.toBeNull();
    expect(await resolveSession(db, session.id, policy, T0 + 60 * MINUTE)).toBeNull();
    expect(await sessionCount(db)).toBe(0);

    const idle = await createSession(db, 'mai', '10.0.0.2', T0);
    expect(await resolveSession(db, idle.id, policy, T0 + 30 * MINUTE)).toBeNull();
    expect(await resolveSession(db, 'not-a-session-id', policy, T0)).toBeNull();

    const ended = await createSession(db, 'mai', '10.0.0.2', T0);
    expect(await endSession(db, ended.id)).toBe(true);
    expect(await endSession(db, ended.id)).toBe(false);
    expect(await resolveSession(db, ended.id, policy, T0)).toBeNull();
  });

  it('sweeps the sessions past either limit and keeps the live ones', async () => {
    const db = registry();
    await insertUser(db, 'lan');
    const live = await createSession(db, 'lan', '10.0.0.1', T0 + 40 * MINUTE);
    await createSession(db, 'lan', '10.0.0.1', T0);
    expect(await deleteExpiredSessions(db, policy, T0 + 45 * MINUTE)).toBe(1);
    expect(await sessionCount(db)).toBe(1);
    expect(await resolveSession(db, live.id, policy, T0 + 45 * MINUTE)).not.toBeNull();
  });

  it('gives a token its scope until it is revoked or expires, and says which', async () => {
    const db = registry();
    await registerCheckpoint(db, GATE);
    const reader = await createToken(db, { name: '  Prometheus  ', role: 'inspector', readOnly: true, createdBy: 'cli:root' }, T0);
    expect(reader.token).toMatch(/^qrg_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    expect(reader.info).toMatchObject({ name: 'Prometheus', role: 'inspector', readOnly: true, createdBy: 'cli:root', expiresAt: null, revokedAt: null, lastUsedAt: null });
    expect(await principalForToken(db, reader.token, T0)).toEqual({ kind: 'token', id: reader.info.tokenId, role: 'inspector', unit: null, checkpoints: [], readOnly: true });

    const guard = await createToken(db, { name: 'gate', role: 'guard', checkpoints: [GATE], expiresDays: 1, createdBy: 'user:lan' }, T0);
    expect(guard.info.expiresAt).toBe(new Date(T0 + 24 * 60 * MINUTE).toISOString());
    expect(await principalForToken(db, guard.token, T0 + 60 * MINUTE)).toMatchObject({ role: 'guard', checkpoints: [GATE], readOnly: false });
    expect(await principalForToken(db, guard.token, T0 + 24 * 60 * MINUTE)).toBe('expired');

    const revoked = await revokeToken(db, reader.info.tokenId, T0 + MINUTE);
    expect(revoked.revokedAt).toBe(new Date(T0 + MINUTE).toISOString());
    expect((await revokeToken(db, reader.info.tokenId, T0 + 2 * MINUTE)).revokedAt).toBe(revoked.revokedAt);
    expect(await principalForToken(db, reader.token, T0 + 2 * MINUTE)).toBe('revoked');
    expect(await principalForToken(db, `qrg_abcdefghij_${'A'.repeat(43)}`, T0)).toBe('unknown');
    expect(await principalForToken(db, 'Bearer nonsense', T0)).toBe('malformed');

    await expect(revokeToken(db, 'abcdefghij')).rejects.toMatchObject({ code: 'token-unknown' });
    await expect(createToken(db, { name: '', role: 'manager', createdBy: 'test', expiresDays: 0 })).rejects.toMatchObject({ code: 'token-invalid' });
    await expect(createToken(db, { name: 'x', role: 'guard', checkpoints: [UNKNOWN_1], createdBy: 'test' })).rejects.toMatchObject({ code: 'checkpoint-unknown' });
  });

  it('notes when a token was last used at most once a minute, and lists tokens oldest first', async () => {
    const db = registry();
    const first = await createToken(db, { name: 'first', role: 'admin', createdBy: 'test' }, T0);
    const second = await createToken(db, { name: 'second', role: 'admin', createdBy: 'test' }, T0 + 1);
    await principalForToken(db, first.token, T0 + MINUTE);
    await principalForToken(db, first.token, T0 + MINUTE + 30_000);
    const [listedFirst, listedSecond] = await listTokens(db);
    expect(listedFirst).toMatchObject({ tokenId: first.info.tokenId, lastUsedAt: new Date(T0 + MINUTE).toISOString() });
    expect(listedSecond).toMatchObject({ tokenId: second.info.tokenId, lastUsedAt: null });
    await principalForToken(db, first.token, T0 + 2 * MINUTE + 1);
    expect((await listTokens(db))[0]!.lastUsedAt).toBe(new Date(T0 + 2 * MINUTE + 1).toISOString());
  });

  it('pages the audit log newest first by id, filtered by actor and action, with details as written', async () => {
    const db = registry();
    for (let i = 0; i < 5; i++) {
      await recordAudit(db, { actor: i % 2 === 0 ? 'user:lan' : 'token:abc', action: i < 3 ? 'user.add' : 'token.revoke', target: `t${i}`, details: { n: i, tên: 'Huế' }, source: '10.0.0.1' }, T0 + i);
    }
    await recordCliAudit(db, { action: 'user.disable', target: 'mai' }, T0 + 10);
    const first = await searchAudit(db, { limit: 4 });
    expect(first.entries.map((entry) => entry.target)).toEqual(['mai', 't4', 't3', 't2']);
    expect(first.entries[0]).toMatchObject({ actor: cliActor(), source: 'cli', details: {}, at: new Date(T0 + 10).toISOString() });
    expect(first.entries[1]).toMatchObject({ actor: 'user:lan', action: 'token.revoke', details: { n: 4, tên: 'Huế' }, source: '10.0.0.1' });
    expect(first.nextBefore).toBe(first.entries[3]!.id);
    const rest = await searchAudit(db, { limit: 4, before: first.nextBefore! });
    expect(rest).toEqual({ entries: [expect.objectContaining({ target: 't1' }), expect.objectContaining({ target: 't0' })], nextBefore: null });
    expect((await searchAudit(db, { limit: 10, actor: 'user:lan', action: 'user.add' })).entries.map((entry) => entry.target)).toEqual(['t2', 't0']);
  });

  it('keeps the first acknowledgement of an alarm and tells the second who was first', async () => {
    const db = registry();
    const alarm = { id: 'terminal-offline:gate-1:1780000000000', kind: 'terminal-offline' as const };
    const first = await acknowledgeAlarm(db, alarm, 'user:lan', 'gọi kỹ thuật viên', T0);
    expect(first).toEqual({ ok: true, ack: { by: 'user:lan', at: new Date(T0).toISOString(), note: 'gọi kỹ thuật viên' } });
    expect(await acknowledgeAlarm(db, alarm, 'user:mai', 'me too', T0 + 1)).toEqual({ ok: false, reason: 'already-acknowledged', ack: first.ack });
    // More ids than one statement takes: every acknowledged one is found.
    const ids = Array.from({ length: 1200 }, (_, i) => `sequence-gap:gate-${i}:1`);
    for (const id of [ids[0]!, ids[700]!, ids[1199]!]) await acknowledgeAlarm(db, { id, kind: 'sequence-gap' }, 'user:lan', 'seen', T0);
    const acks = await alarmAcks(db, [...ids, alarm.id]);
    expect([...acks.keys()].sort()).toEqual([alarm.id, ids[0]!, ids[1199]!, ids[700]!].sort());
    expect(await alarmAcks(db, [])).toEqual(new Map());
  });

  it('logs a user in through the desk: a new session, the one brought ended, the login in the audit log', async () => {
    const db = registry();
    const desk = new LoginDesk({ db, logger: silentLogger(), now: () => T0, failures: authFailuresSchema.parse({}) });
    await addUser(db, { username: 'lan', role: 'admin', password: 'mật khẩu đủ dài' }, T0);
    const before = await createSession(db, 'lan', '10.0.0.1', T0);
    expect(await desk.login({ username: 'lan', password: 'sai rồi', address: '10.0.0.1', sessionId: null })).toEqual({ ok: false, refusal: 'wrong-credentials' });
    const outcome = await desk.login({ username: 'lan', password: 'mật khẩu đủ dài', address: '10.0.0.1', sessionId: before.id });
    if (!outcome.ok) throw new Error(`login refused: ${outcome.refusal}`);
    expect(outcome.principal).toEqual({ kind: 'user', id: 'lan', role: 'admin', unit: null, checkpoints: [], readOnly: false });
    expect(await resolveSession(db, before.id, policy, T0)).toBeNull();
    expect((await resolveSession(db, outcome.session.id, policy, T0))?.principal.id).toBe('lan');
    expect((await searchAudit(db, { limit: 10 })).entries).toEqual([expect.objectContaining({ actor: 'user:lan', action: 'session.login', target: 'lan', source: '10.0.0.1' })]);
  });
});

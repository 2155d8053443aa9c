import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RegistryDb } from '../store/sql/registryDb.js';
import type { Principal, Role } from './roles.js';

/**
 * Browser sessions (`POST /api/session`). The cookie carries 256 random bits; the central
 * keeps their SHA-256, so a copy of its database opens no session. A session ends after
 * `idleMs` without a request or `absoluteMs` after login, whichever comes first, and with
 * the user's password change, disabling or removal (broker/access/users.ts).
 *
 * The CSRF token is derived from the session id (a hash with its own label): only a holder
 * of the cookie can know it, a cross-site form cannot, and nothing more is stored.
 */

export interface SessionPolicy {
  readonly idleMs: number;
  readonly absoluteMs: number;
}

export const sessionCookieName = 'qrgate_session';

const hashOf = (label: string, id: string): string => createHash('sha256').update(`${label}:${id}`).digest('base64url');
const sessionHash = (id: string): string => hashOf('session', id);

export function csrfTokenFor(sessionId: string): string {
  return hashOf('csrf', sessionId);
}

export function csrfTokenMatches(sessionId: string, presented: string): boolean {
  const expected = Buffer.from(csrfTokenFor(sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A new session, always with a fresh id: an id planted before login never becomes a session (fixation). */
export async function createSession(db: RegistryDb, username: string, address: string, nowMs = Date.now()): Promise<{ readonly id: string; readonly csrfToken: string }> {
  const id = randomBytes(32).toString('base64url');
  await db.run('INSERT INTO sessions (session_hash, username, created_at_ms, last_seen_at_ms, address) VALUES (?, ?, ?, ?, ?)', [sessionHash(id), username, nowMs, nowMs, address.slice(0, 100)]);
  return { id, csrfToken: csrfTokenFor(id) };
}

export async function endSession(db: RegistryDb, id: string): Promise<boolean> {
  return (await db.run('DELETE FROM sessions WHERE session_hash = ?', [sessionHash(id)])) > 0;
}

interface SessionRow {
  readonly username: string;
  readonly createdAtMs: number;
  readonly lastSeenAtMs: number;
  readonly role: Role;
  readonly unit: string | null;
  readonly checkpoints: string;
  readonly disabledAtMs: number | null;
}

export interface ActiveSession {
  readonly principal: Principal;
  readonly expiresAt: string;
}

/**
 * The principal behind a session cookie, or null when there is none (unknown, idle too
 * long, too old, user disabled). An expired session is deleted on sight. `last_seen` is
 * written at most every 30 s: a page firing ten requests is not ten writes.
 */
export async function resolveSession(db: RegistryDb, id: string, policy: SessionPolicy, nowMs = Date.now()): Promise<ActiveSession | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const hash = sessionHash(id);
  const row = await db.get<SessionRow>(
    `SELECT s.username, s.created_at_ms AS "createdAtMs", s.last_seen_at_ms AS "lastSeenAtMs", u.role, u.unit, u.checkpoints, u.disabled_at_ms AS "disabledAtMs"
     FROM sessions s JOIN users u ON u.username = s.username WHERE s.session_hash = ?`,
    [hash],
  );
  if (row === undefined) return null;
  if (row.disabledAtMs !== null || nowMs - row.lastSeenAtMs >= policy.idleMs || nowMs - row.createdAtMs >= policy.absoluteMs) {
    await db.run('DELETE FROM sessions WHERE session_hash = ?', [hash]);
    return null;
  }
  if (nowMs - row.lastSeenAtMs > 30_000) await db.run('UPDATE sessions SET last_seen_at_ms = ? WHERE session_hash = ?', [nowMs, hash]);
  const expiresAtMs = Math.min(nowMs + policy.idleMs, row.createdAtMs + policy.absoluteMs);
  return {
    principal: { kind: 'user', id: row.username, role: row.role, unit: row.unit, checkpoints: JSON.parse(row.checkpoints) as string[], readOnly: false },
    expiresAt: new Date(expiresAtMs).toISOString(),
  };
}

/** Sessions past either limit, deleted in one statement; the central runs it now and then so the table stays small. */
export function deleteExpiredSessions(db: RegistryDb, policy: SessionPolicy, nowMs = Date.now()): Promise<number> {
  return db.run('DELETE FROM sessions WHERE last_seen_at_ms <= ? OR created_at_ms <= ?', [nowMs - policy.idleMs, nowMs - policy.absoluteMs]);
}

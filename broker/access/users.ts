import { z } from 'zod';
import type { CentralDb } from '../store/sqliteSchema.js';
import { msToIso, msToIsoOrNull } from '../store/time.js';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';
import { checkRoleScope, type Role, type RoleScope } from './roles.js';

/**
 * The people who use the central (`qrgate users …` and `/api/users`, one code path for both).
 * A password is hashed before it reaches this module's SQL and is never returned; changing
 * it, disabling or removing the user ends every session they hold.
 */

export const usernameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, { message: 'expected 2 to 64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit' });

export type AccountErrorCode = 'user-exists' | 'user-unknown' | 'user-invalid' | 'checkpoint-unknown';

export class AccountError extends Error {
  constructor(
    readonly code: AccountErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

export interface User extends RoleScope {
  readonly username: string;
  readonly createdAt: string;
  readonly passwordChangedAt: string;
  readonly disabledAt: string | null;
}

interface UserRow {
  readonly username: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly unit: string | null;
  readonly checkpoints: string;
  readonly createdAtMs: number;
  readonly passwordChangedAtMs: number;
  readonly disabledAtMs: number | null;
}

const userColumns = `SELECT username, password_hash AS passwordHash, role, unit, checkpoints, created_at_ms AS createdAtMs,
  password_changed_at_ms AS passwordChangedAtMs, disabled_at_ms AS disabledAtMs FROM users`;

function toUser(row: UserRow): User {
  return {
    username: row.username,
    role: row.role,
    unit: row.unit,
    checkpoints: JSON.parse(row.checkpoints) as string[],
    createdAt: msToIso(row.createdAtMs),
    passwordChangedAt: msToIso(row.passwordChangedAtMs),
    disabledAt: msToIsoOrNull(row.disabledAtMs),
  };
}

function checkUsername(input: string): string {
  const parsed = usernameSchema.safeParse(input);
  if (!parsed.success) throw new AccountError('user-invalid', `username: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** A guard's checkpoints must exist: a typo'd code would give a guard an empty screen, silently. */
export function checkCheckpointsRegistered(db: CentralDb, codes: readonly string[]): void {
  const select = db.prepare<[string], number>('SELECT 1 FROM checkpoints WHERE code = ?').pluck();
  const unknown = codes.filter((code) => select.get(code) === undefined);
  if (unknown.length > 0) throw new AccountError('checkpoint-unknown', `checkpoint${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} not registered at this central`);
}

export interface NewUser {
  readonly username: string;
  readonly role: string;
  readonly unit?: string | null | undefined;
  readonly checkpoints?: readonly string[] | undefined;
  /** Absent: a strong one is generated and returned once. */
  readonly password?: string | undefined;
}

export interface AddedUser {
  readonly user: User;
  /** Set only when the password was generated here: show it once, then it is gone. */
  readonly generatedPassword: string | null;
}

export async function addUser(db: CentralDb, input: NewUser, nowMs = Date.now()): Promise<AddedUser> {
  const username = checkUsername(input.username);
  const scope = checkRoleScope(input);
  checkCheckpointsRegistered(db, scope.checkpoints);
  const generatedPassword = input.password === undefined ? generatePassword() : null;
  const passwordHash = await hashPassword(input.password ?? generatedPassword!);
  const { changes } = db
    .prepare(
      `INSERT INTO users (username, password_hash, role, unit, checkpoints, created_at_ms, password_changed_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`,
    )
    .run(username, passwordHash, scope.role, scope.unit, JSON.stringify(scope.checkpoints), nowMs, nowMs);
  if (changes === 0) throw new AccountError('user-exists', `user ${username} already exists`);
  return { user: getUser(db, username)!, generatedPassword };
}

export function getUser(db: CentralDb, username: string): User | null {
  const row = db.prepare<[string], UserRow>(`${userColumns} WHERE username = ?`).get(username);
  return row === undefined ? null : toUser(row);
}

export function listUsers(db: CentralDb): User[] {
  return db.prepare<[], UserRow>(`${userColumns} ORDER BY username`).all().map(toUser);
}

function existing(db: CentralDb, input: string): User {
  const user = getUser(db, checkUsername(input));
  if (user === null) throw new AccountError('user-unknown', `no user ${input} at this central`);
  return user;
}

/** A new password (generated when absent) ends every session the user holds. */
export async function setUserPassword(db: CentralDb, usernameInput: string, password?: string, nowMs = Date.now()): Promise<{ user: User; generatedPassword: string | null }> {
  const { username } = existing(db, usernameInput);
  const generatedPassword = password === undefined ? generatePassword() : null;
  const passwordHash = await hashPassword(password ?? generatedPassword!);
  db.transaction(() => {
    db.prepare('UPDATE users SET password_hash = ?, password_changed_at_ms = ? WHERE username = ?').run(passwordHash, nowMs, username);
    db.prepare('DELETE FROM sessions WHERE username = ?').run(username);
  }).immediate();
  return { user: getUser(db, username)!, generatedPassword };
}

/** A disabled user cannot log in and loses every session at once; the account and its history stay. */
export function disableUser(db: CentralDb, usernameInput: string, nowMs = Date.now()): User {
  const { username } = existing(db, usernameInput);
  db.transaction(() => {
    db.prepare('UPDATE users SET disabled_at_ms = coalesce(disabled_at_ms, ?) WHERE username = ?').run(nowMs, username);
    db.prepare('DELETE FROM sessions WHERE username = ?').run(username);
  }).immediate();
  return getUser(db, username)!;
}

/** Sessions go with the user (ON DELETE CASCADE); the audit log keeps naming them. */
export function removeUser(db: CentralDb, usernameInput: string): User {
  const user = existing(db, usernameInput);
  db.prepare('DELETE FROM users WHERE username = ?').run(user.username);
  return user;
}

/**
 * The user behind a login, or null: unknown, disabled and wrong password all answer null
 * after the same scrypt work, so none can be told from another.
 */
export async function checkLogin(db: CentralDb, username: string, password: string): Promise<User | null> {
  const row = usernameSchema.safeParse(username).success ? db.prepare<[string], UserRow>(`${userColumns} WHERE username = ?`).get(username) : undefined;
  const ok = await verifyPassword(password, row?.passwordHash ?? null);
  if (!ok || row === undefined || row.disabledAtMs !== null) return null;
  return toUser(row);
}

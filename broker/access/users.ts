import { z } from 'zod';
import { placeholders, type RegistryDb } from '../store/sql/registryDb.js';
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

const userColumns = `SELECT username, password_hash AS "passwordHash", role, unit, checkpoints, created_at_ms AS "createdAtMs",
  password_changed_at_ms AS "passwordChangedAtMs", disabled_at_ms AS "disabledAtMs" FROM users`;

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
export async function checkCheckpointsRegistered(db: RegistryDb, codes: readonly string[]): Promise<void> {
  if (codes.length === 0) return;
  const known = new Set(await db.column<string>(`SELECT code FROM checkpoints WHERE code IN (${placeholders(codes.length)})`, codes));
  const unknown = codes.filter((code) => !known.has(code));
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

export async function addUser(db: RegistryDb, input: NewUser, nowMs = Date.now()): Promise<AddedUser> {
  const username = checkUsername(input.username);
  const scope = checkRoleScope(input);
  await checkCheckpointsRegistered(db, scope.checkpoints);
  const generatedPassword = input.password === undefined ? generatePassword() : null;
  const passwordHash = await hashPassword(input.password ?? generatedPassword!);
  const changes = await db.run(
    `INSERT INTO users (username, password_hash, role, unit, checkpoints, created_at_ms, password_changed_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`,
    [username, passwordHash, scope.role, scope.unit, JSON.stringify(scope.checkpoints), nowMs, nowMs],
  );
  if (changes === 0) throw new AccountError('user-exists', `user ${username} already exists`);
  return { user: (await getUser(db, username))!, generatedPassword };
}

export async function getUser(db: RegistryDb, username: string): Promise<User | null> {
  const row = await db.get<UserRow>(`${userColumns} WHERE username = ?`, [username]);
  return row === undefined ? null : toUser(row);
}

/**
 * By username, byte order on both engines (PostgreSQL would sort by its collation, which
 * weighs `.`, `_` and `-` differently from SQLite).
 */
export async function listUsers(db: RegistryDb): Promise<User[]> {
  return (await db.all<UserRow>(`${userColumns} ORDER BY username${db.dialect === 'postgres' ? ' COLLATE "C"' : ''}`)).map(toUser);
}

async function existing(db: RegistryDb, input: string): Promise<User> {
  const user = await getUser(db, checkUsername(input));
  if (user === null) throw new AccountError('user-unknown', `no user ${input} at this central`);
  return user;
}

/** A new password (generated when absent) ends every session the user holds. */
export async function setUserPassword(db: RegistryDb, usernameInput: string, password?: string, nowMs = Date.now()): Promise<{ user: User; generatedPassword: string | null }> {
  const { username } = await existing(db, usernameInput);
  const generatedPassword = password === undefined ? generatePassword() : null;
  const passwordHash = await hashPassword(password ?? generatedPassword!);
  await db.transaction(async (tx) => {
    await tx.run('UPDATE users SET password_hash = ?, password_changed_at_ms = ? WHERE username = ?', [passwordHash, nowMs, username]);
    await tx.run('DELETE FROM sessions WHERE username = ?', [username]);
  });
  return { user: (await getUser(db, username))!, generatedPassword };
}

/** A disabled user cannot log in and loses every session at once; the account and its history stay. */
export async function disableUser(db: RegistryDb, usernameInput: string, nowMs = Date.now()): Promise<User> {
  const { username } = await existing(db, usernameInput);
  await db.transaction(async (tx) => {
    await tx.run('UPDATE users SET disabled_at_ms = coalesce(disabled_at_ms, CAST(? AS bigint)) WHERE username = ?', [nowMs, username]);
    await tx.run('DELETE FROM sessions WHERE username = ?', [username]);
  });
  return (await getUser(db, username))!;
}

/** Sessions go with the user (ON DELETE CASCADE); the audit log keeps naming them. */
export async function removeUser(db: RegistryDb, usernameInput: string): Promise<User> {
  const user = await existing(db, usernameInput);
  await db.run('DELETE FROM users WHERE username = ?', [user.username]);
  return user;
}

/**
 * The user behind a login, or null: unknown, disabled and wrong password all answer null
 * after the same scrypt work, so none can be told from another.
 */
export async function checkLogin(db: RegistryDb, username: string, password: string): Promise<User | null> {
  const row = usernameSchema.safeParse(username).success ? await db.get<UserRow>(`${userColumns} WHERE username = ?`, [username]) : undefined;
  const ok = await verifyPassword(password, row?.passwordHash ?? null);
  if (!ok || row === undefined || row.disabledAtMs !== null) return null;
  return toUser(row);
}

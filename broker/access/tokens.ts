import { randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import { tokenHash } from '../../protocol/tokenHash.js';
import type { RegistryDb } from '../store/sql/registryDb.js';
import { msToIso, msToIsoOrNull } from '../store/time.js';
import { checkCheckpointsRegistered } from './users.js';
import { checkRoleScope, type Principal, type Role, type RoleScope } from './roles.js';

/**
 * Bearer tokens for programs (`qrgate tokens …`, `/api/tokens`): Prometheus, scripts, an
 * export job. A token is `qrg_<id>_<secret>`; the central keeps only its SHA-256 (256
 * random bits need no KDF), so the token is shown once, at creation. The id is public: it
 * names the token in lists, logs and the audit log, and is what `revoke` takes.
 */

const tokenPattern = /^qrg_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;

export const tokenIdSchema = z.string().regex(/^[a-z0-9]{10}$/, { message: 'expected a token id of 10 lower-case letters and digits' });
export const tokenNameSchema = z
  .string()
  .transform((value) => value.normalize('NFC').trim())
  .pipe(z.string().min(1, { message: 'is empty' }).max(100, { message: 'is longer than 100 characters' }).regex(/^[^\u0000-\u001f\u007f]*$/, { message: 'contains a control character' }));

export type TokenErrorCode = 'token-unknown' | 'token-invalid';

export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export interface ApiToken extends RoleScope {
  readonly tokenId: string;
  readonly name: string;
  readonly readOnly: boolean;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

interface TokenRow {
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
  readonly unit: string | null;
  readonly checkpoints: string;
  readonly readOnly: number;
  readonly createdBy: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number | null;
  readonly revokedAtMs: number | null;
  readonly lastUsedAtMs: number | null;
}

const tokenColumns = `SELECT token_id AS "tokenId", name, role, unit, checkpoints, read_only AS "readOnly", created_by AS "createdBy",
  created_at_ms AS "createdAtMs", expires_at_ms AS "expiresAtMs", revoked_at_ms AS "revokedAtMs", last_used_at_ms AS "lastUsedAtMs" FROM api_tokens`;

function toToken(row: TokenRow): ApiToken {
  return {
    tokenId: row.tokenId,
    name: row.name,
    role: row.role,
    unit: row.unit,
    checkpoints: JSON.parse(row.checkpoints) as string[],
    readOnly: row.readOnly === 1,
    createdBy: row.createdBy,
    createdAt: msToIso(row.createdAtMs),
    expiresAt: msToIsoOrNull(row.expiresAtMs),
    revokedAt: msToIsoOrNull(row.revokedAtMs),
    lastUsedAt: msToIsoOrNull(row.lastUsedAtMs),
  };
}

export interface NewToken {
  readonly name: string;
  readonly role: string;
  readonly unit?: string | null | undefined;
  readonly checkpoints?: readonly string[] | undefined;
  readonly readOnly?: boolean | undefined;
  /** Days until it stops working; absent: until revoked. */
  readonly expiresDays?: number | undefined;
  /** The audit log's name for who created it (`cli:root`, `user:lan`). */
  readonly createdBy: string;
}

const dayMs = 86_400_000;

/** Lower case without look-alikes (no 0/o, 1/l): an operator reads it aloud to revoke it. */
const idAlphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
const newTokenId = (): string => Array.from({ length: 10 }, () => idAlphabet[randomInt(idAlphabet.length)]).join('');

export async function createToken(db: RegistryDb, input: NewToken, nowMs = Date.now()): Promise<{ readonly token: string; readonly info: ApiToken }> {
  const problems: string[] = [];
  const name = tokenNameSchema.safeParse(input.name);
  if (!name.success) problems.push(`name ${name.error.issues[0]?.message ?? 'is invalid'}`);
  const days = input.expiresDays;
  if (days !== undefined && !(Number.isFinite(days) && days > 0 && days <= 3650)) problems.push('expires-days: expected a number of days above 0 and at most 3650');
  let scope: RoleScope | null = null;
  try {
    scope = checkRoleScope(input);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0 || scope === null || !name.success) throw new TokenError('token-invalid', problems.join('; '));
  await checkCheckpointsRegistered(db, scope.checkpoints);
  const tokenId = newTokenId();
  const token = `qrg_${tokenId}_${randomBytes(32).toString('base64url')}`;
  await db.run(
    `INSERT INTO api_tokens (token_id, token_hash, name, role, unit, checkpoints, read_only, created_by, created_at_ms, expires_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [tokenId, tokenHash(token), name.data, scope.role, scope.unit, JSON.stringify(scope.checkpoints), input.readOnly ? 1 : 0, input.createdBy, nowMs, days === undefined ? null : Math.round(nowMs + days * dayMs)],
  );
  return { token, info: (await getToken(db, tokenId))! };
}

export async function getToken(db: RegistryDb, tokenId: string): Promise<ApiToken | null> {
  const row = await db.get<TokenRow>(`${tokenColumns} WHERE token_id = ?`, [tokenId]);
  return row === undefined ? null : toToken(row);
}

/** Oldest first; ids (lower-case ASCII) tie-break the same on both engines. */
export async function listTokens(db: RegistryDb): Promise<ApiToken[]> {
  return (await db.all<TokenRow>(`${tokenColumns} ORDER BY created_at_ms, token_id`)).map(toToken);
}

/** Revoked at once: the next request carrying it is refused. Revoking twice is not an error. */
export async function revokeToken(db: RegistryDb, tokenIdInput: string, nowMs = Date.now()): Promise<ApiToken> {
  const id = tokenIdSchema.safeParse(tokenIdInput);
  if (!id.success) throw new TokenError('token-invalid', `token id: ${id.error.issues[0]?.message ?? 'invalid'}`);
  await db.run('UPDATE api_tokens SET revoked_at_ms = coalesce(revoked_at_ms, CAST(? AS bigint)) WHERE token_id = ?', [nowMs, id.data]);
  const token = await getToken(db, id.data);
  if (token === null) throw new TokenError('token-unknown', `no token ${id.data} at this central`);
  return token;
}

/** Why a presented token is refused; the answer names no more than this. */
export type TokenRefusal = 'malformed' | 'unknown' | 'revoked' | 'expired';

/**
 * The principal behind a presented token, or why not. `last_used_at_ms` is written at most
 * once a minute per token: a scrape every 15 s must not turn into a write every 15 s.
 */
export async function principalForToken(db: RegistryDb, presented: string, nowMs = Date.now()): Promise<Principal | TokenRefusal> {
  if (!tokenPattern.test(presented)) return 'malformed';
  const row = await db.get<TokenRow>(`${tokenColumns} WHERE token_hash = ?`, [tokenHash(presented)]);
  if (row === undefined) return 'unknown';
  if (row.revokedAtMs !== null) return 'revoked';
  if (row.expiresAtMs !== null && row.expiresAtMs <= nowMs) return 'expired';
  if (row.lastUsedAtMs === null || nowMs - row.lastUsedAtMs > 60_000) {
    await db.run('UPDATE api_tokens SET last_used_at_ms = ? WHERE token_id = ?', [nowMs, row.tokenId]);
  }
  return { kind: 'token', id: row.tokenId, role: row.role, unit: row.unit, checkpoints: JSON.parse(row.checkpoints) as string[], readOnly: row.readOnly === 1 };
}

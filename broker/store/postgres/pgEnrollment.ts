import type pg from 'pg';
import { z } from 'zod';
import { listScopeSchema } from '../../../protocol/lists/index.js';
import type { EnrollmentRedemption, NewEnrollmentToken, RedeemOutcome } from '../centralStore.js';
import { StoreError } from '../storeError.js';
import { inTransaction, pgConstraint, pgErrorCode } from './pgDb.js';

/**
 * Enrollment tokens on PostgreSQL, as sqliteEnrollment.ts. Redeeming locks the token's row
 * (FOR UPDATE) for the transaction that adds the terminal and marks the token used, so two
 * devices racing with one QR, even through two centrals, cannot both get an identity.
 */

interface TokenRow {
  readonly checkpointCode: string;
  readonly listScopes: unknown;
  readonly expiresAtMs: number;
  readonly usedByDevice: string | null;
  readonly terminalId: string | null;
  readonly retiredAtMs: number | null;
  readonly terminalRemovedAtMs: number | null;
}

const storedScopesSchema = z.array(listScopeSchema).min(1);

const selectTokenSql = `
  SELECT e.checkpoint_code AS "checkpointCode", e.list_scopes AS "listScopes", e.expires_at_ms AS "expiresAtMs",
         e.used_by_device AS "usedByDevice", e.terminal_id AS "terminalId", c.retired_at_ms AS "retiredAtMs",
         t.removed_at_ms AS "terminalRemovedAtMs"
  FROM enrollment_tokens e
  JOIN checkpoints c ON c.code = e.checkpoint_code
  LEFT JOIN terminals t ON t.terminal_id = e.terminal_id
  WHERE e.token_hash = $1
  FOR UPDATE OF e`;

export class PgEnrollmentTokens {
  constructor(
    private readonly pool: pg.Pool,
    private readonly nowMs: () => number,
  ) {}

  async createToken(token: NewEnrollmentToken): Promise<void> {
    try {
      await this.pool.query(
        'INSERT INTO enrollment_tokens (token_hash, checkpoint_code, list_scopes, created_at_ms, expires_at_ms) VALUES ($1, $2, $3::jsonb, $4, $5)',
        [token.tokenHash, token.checkpointCode, JSON.stringify(token.listScopes), this.nowMs(), token.expiresAtMs],
      );
    } catch (err) {
      if (pgErrorCode(err) === '23503') throw new StoreError('checkpoint-unknown', `checkpoint ${token.checkpointCode} is not registered`);
      throw err;
    }
  }

  async redeem(redemption: EnrollmentRedemption): Promise<RedeemOutcome> {
    return inTransaction(this.pool, async (tx) => {
      const row = (await tx.query<TokenRow>(selectTokenSql, [redemption.tokenHash])).rows[0];
      if (row === undefined) return { ok: false, reason: 'unknown' };
      const listScopes = storedScopesSchema.parse(row.listScopes);
      const granted = (terminalId: string, reissued: boolean): RedeemOutcome => ({ ok: true, terminalId, checkpointCode: row.checkpointCode, listScopes, reissued });
      if (row.usedByDevice !== null) {
        // The device that used it, asking again: its answer was lost. A removed terminal stays removed.
        if (row.usedByDevice !== redemption.device || row.terminalId === null || row.terminalRemovedAtMs !== null) return { ok: false, reason: 'replayed' };
        if (row.retiredAtMs !== null) return { ok: false, reason: 'checkpoint-retired' };
        await tx.query('UPDATE terminals SET secret_hash = $1 WHERE terminal_id = $2', [redemption.secretHash, row.terminalId]);
        return granted(row.terminalId, true);
      }
      if (row.expiresAtMs <= redemption.nowMs) return { ok: false, reason: 'expired' };
      if (row.retiredAtMs !== null) return { ok: false, reason: 'checkpoint-retired' };
      try {
        await tx.query(
          'INSERT INTO terminals (terminal_id, checkpoint_code, secret_hash, list_scopes, created_at_ms) VALUES ($1, $2, $3, $4::jsonb, $5)',
          [redemption.terminalId, row.checkpointCode, redemption.secretHash, JSON.stringify(listScopes), this.nowMs()],
        );
      } catch (err) {
        if (pgErrorCode(err) === '23505' && pgConstraint(err) === 'terminals_pkey') {
          throw new StoreError('terminal-exists', `terminal ${JSON.stringify(redemption.terminalId)} already exists`);
        }
        throw err;
      }
      await tx.query('UPDATE enrollment_tokens SET used_at_ms = $1, used_by_device = $2, terminal_id = $3 WHERE token_hash = $4', [
        redemption.nowMs,
        redemption.device,
        redemption.terminalId,
        redemption.tokenHash,
      ]);
      return granted(redemption.terminalId, false);
    });
  }
}

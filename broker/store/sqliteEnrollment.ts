import { z } from 'zod';
import { listScopeSchema } from '../../protocol/lists/index.js';
import type { EnrollmentRedemption, NewEnrollmentToken, RedeemOutcome } from './centralStore.js';
import type { CentralDb } from './sqliteSchema.js';
import { StoreError } from './storeError.js';

/**
 * Enrollment tokens (schema 5): written by `terminals enroll-qr`, used by the broker when a
 * fresh terminal presents the QR (broker/enrollment/enrollmentDesk.ts). Using one adds the
 * terminal in the same IMMEDIATE transaction that marks the token used, so two devices
 * racing with one QR cannot both get an identity.
 */

interface TokenRow {
  readonly checkpointCode: string;
  readonly listScopes: string;
  readonly expiresAtMs: number;
  readonly usedByDevice: string | null;
  readonly terminalId: string | null;
  readonly retiredAtMs: number | null;
  readonly terminalRemovedAtMs: number | null;
}

const storedScopesSchema = z.array(listScopeSchema).min(1);

export class SqliteEnrollmentTokens {
  private readonly insertToken;
  private readonly redeemTx;

  constructor(
    db: CentralDb,
    private readonly nowMs: () => number,
  ) {
    this.insertToken = db.prepare<[string, string, string, number, number]>(
      `INSERT INTO enrollment_tokens (token_hash, checkpoint_code, list_scopes, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?)`,
    );
    const selectToken = db.prepare<[string], TokenRow>(
      `SELECT e.checkpoint_code AS checkpointCode, e.list_scopes AS listScopes, e.expires_at_ms AS expiresAtMs,
              e.used_by_device AS usedByDevice, e.terminal_id AS terminalId, c.retired_at_ms AS retiredAtMs,
              t.removed_at_ms AS terminalRemovedAtMs
       FROM enrollment_tokens e
       JOIN checkpoints c ON c.code = e.checkpoint_code
       LEFT JOIN terminals t ON t.terminal_id = e.terminal_id
       WHERE e.token_hash = ?`,
    );
    const insertTerminal = db.prepare<[string, string, string, string, number]>(
      `INSERT INTO terminals (terminal_id, checkpoint_code, secret_hash, list_scopes, created_at_ms) VALUES (?, ?, ?, ?, ?)`,
    );
    const replaceSecret = db.prepare<[string, string]>('UPDATE terminals SET secret_hash = ? WHERE terminal_id = ?');
    const markUsed = db.prepare<[number, string, string, string]>(
      'UPDATE enrollment_tokens SET used_at_ms = ?, used_by_device = ?, terminal_id = ? WHERE token_hash = ?',
    );

    this.redeemTx = db.transaction((redemption: EnrollmentRedemption): RedeemOutcome => {
      const row = selectToken.get(redemption.tokenHash);
      if (row === undefined) return { ok: false, reason: 'unknown' };
      const listScopes = storedScopesSchema.parse(JSON.parse(row.listScopes));
      const granted = (terminalId: string, reissued: boolean): RedeemOutcome => ({ ok: true, terminalId, checkpointCode: row.checkpointCode, listScopes, reissued });
      if (row.usedByDevice !== null) {
        // The device that used it, asking again: its answer was lost. A removed terminal stays removed.
        if (row.usedByDevice !== redemption.device || row.terminalId === null || row.terminalRemovedAtMs !== null) return { ok: false, reason: 'replayed' };
        if (row.retiredAtMs !== null) return { ok: false, reason: 'checkpoint-retired' };
        replaceSecret.run(redemption.secretHash, row.terminalId);
        return granted(row.terminalId, true);
      }
      if (row.expiresAtMs <= redemption.nowMs) return { ok: false, reason: 'expired' };
      if (row.retiredAtMs !== null) return { ok: false, reason: 'checkpoint-retired' };
      try {
        insertTerminal.run(redemption.terminalId, row.checkpointCode, redemption.secretHash, row.listScopes, nowMs());
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new StoreError('terminal-exists', `terminal ${JSON.stringify(redemption.terminalId)} already exists`);
        }
        throw err;
      }
      markUsed.run(redemption.nowMs, redemption.device, redemption.terminalId, redemption.tokenHash);
      return granted(redemption.terminalId, false);
    });
  }

  createToken(token: NewEnrollmentToken): void {
    try {
      this.insertToken.run(token.tokenHash, token.checkpointCode, JSON.stringify(token.listScopes), this.nowMs(), token.expiresAtMs);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new StoreError('checkpoint-unknown', `checkpoint ${token.checkpointCode} is not registered`);
      }
      throw err;
    }
  }

  redeem(redemption: EnrollmentRedemption): RedeemOutcome {
    // IMMEDIATE: the read and the writes see one database, whoever else writes the file.
    return this.redeemTx.immediate(redemption);
  }
}

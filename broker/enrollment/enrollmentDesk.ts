import { createPublicKey, type KeyObject } from 'node:crypto';
import type { EnrollmentQr, EnrollResult, EnrollRefusalReason } from '../../protocol/enrollment.js';
import { verifyEnrollmentQr } from '../../protocol/enrollment.js';
import { keyId } from '../../protocol/keys.js';
import { tokenHash } from '../../protocol/tokenHash.js';
import type { Logger } from '../../protocol/logger.js';
import { generateSecret, hashSecret } from '../auth/secrets.js';
import { MosquittoHashLedger } from '../mosquitto/hashLedger.js';
import { unusedTerminalId } from '../registry/terminalIds.js';
import type { CentralStore } from '../store/centralStore.js';
import { isStoreError } from '../store/storeError.js';

/**
 * The central's half of enrollment by QR (docs/enrollment.md): judges a QR a device logged
 * in with and, when it is this deployment's, genuine, unexpired and unused, registers a new
 * terminal and answers with everything the device needs to run: identity, secret,
 * checkpoint, list scopes and the deployment's keys. Each refusal names its reason, which
 * the device turns into its own signal for the technician.
 *
 * Logs `enroll.enrolled {terminalId, checkpointCode, reissued}` or `enroll.refused {reason}`;
 * never the token, the secret or the keys.
 */

export interface EnrollmentDeskDeps {
  readonly store: Pick<CentralStore, 'redeemEnrollmentToken' | 'getCheckpoint' | 'getTerminalCredentials'>;
  /** The list authority's private key: its public half judges QR signatures and goes to the terminal. */
  readonly authorityKey: KeyObject;
  readonly refKey: Buffer;
  readonly logger: Logger;
  /** ms since the epoch; default Date.now. */
  readonly nowMs?: () => number;
  /** The central's dataDir: each issued secret's Mosquitto hash is recorded there (broker/mosquitto/hashLedger.ts). */
  readonly dataDir?: string;
}

const refusalMessages: Record<EnrollRefusalReason, string> = {
  'wrong-deployment': 'this QR belongs to another deployment: make one at this central',
  forged: 'this QR was not made by this central (altered, or made elsewhere)',
  expired: 'this QR has expired: make a new one',
  replayed: 'this QR was already used by another terminal: make a new one',
  'checkpoint-retired': 'the checkpoint of this QR was retired',
  unavailable: 'the central could not enroll the terminal now: scan again',
};

export class EnrollmentDesk {
  private readonly authorityPublic: KeyObject;
  private readonly deploymentId: string;
  private readonly authorityPubPem: string;

  constructor(private readonly deps: EnrollmentDeskDeps) {
    this.authorityPublic = createPublicKey(deps.authorityKey);
    this.deploymentId = keyId(this.authorityPublic);
    this.authorityPubPem = this.authorityPublic.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Never rejects: a failure is the `unavailable` answer, and the device may scan again. */
  async answer(clientId: string, qr: EnrollmentQr): Promise<EnrollResult> {
    const log = { clientId, checkpointCode: qr.body.checkpoint };
    try {
      const result = await this.judge(clientId, qr);
      if (result.ok) return result;
      this.deps.logger.warn({ ...log, reason: result.reason }, 'enroll.refused');
      return result;
    } catch (err) {
      this.deps.logger.error({ ...log, err }, 'enroll.failed');
      return refusal('unavailable');
    }
  }

  private async judge(clientId: string, qr: EnrollmentQr): Promise<EnrollResult> {
    const { store, logger } = this.deps;
    if (qr.body.deployment !== this.deploymentId) return refusal('wrong-deployment');
    if (!verifyEnrollmentQr(qr, this.authorityPublic)) return refusal('forged');
    const secret = generateSecret();
    const secretHash = await hashSecret(secret);
    const outcome = await this.redeem(clientId, qr, secretHash);
    // Signed by our key but unknown to our store: not a QR this central handed out (or its store was replaced).
    if (!outcome.ok) return refusal(outcome.reason === 'unknown' ? 'forged' : outcome.reason);
    const checkpoint = await store.getCheckpoint(outcome.checkpointCode);
    if (checkpoint === null) return refusal('unavailable');
    await this.recordMosquittoHash(outcome.terminalId, secretHash, secret);
    logger.info({ terminalId: outcome.terminalId, checkpointCode: checkpoint.code, clientId, reissued: outcome.reissued }, 'enroll.enrolled');
    return {
      v: 1,
      ok: true,
      terminalId: outcome.terminalId,
      secret,
      checkpoint: { code: checkpoint.code, name: checkpoint.name, confirm: checkpoint.confirm },
      lists: [...outcome.listScopes],
      authorityPub: this.authorityPubPem,
      refKey: this.deps.refKey.toString('base64'),
    };
  }

  /**
   * After the store, since the terminal id is only chosen there. A failure does not undo the
   * enrollment (the device works with this central's broker); `mosquitto-config` then lists
   * the terminal as needing `rotate-secret`, refused by Mosquitto meanwhile.
   */
  private async recordMosquittoHash(terminalId: string, secretHash: string, secret: string): Promise<void> {
    if (this.deps.dataDir === undefined) return;
    await new MosquittoHashLedger(this.deps.dataDir).recordTerminal(terminalId, secretHash, secret).catch((err: unknown) => {
      this.deps.logger.warn({ err, terminalId }, 'enroll.mosquitto-hash-failed');
    });
  }

  private async redeem(clientId: string, qr: EnrollmentQr, secretHash: string) {
    const { store } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const terminalId = await unusedTerminalId(store);
      if (terminalId === null) throw new Error('no unused terminal id after 10 attempts');
      try {
        return await store.redeemEnrollmentToken({
          tokenHash: tokenHash(qr.body.token),
          device: clientId.slice('enroll-'.length),
          nowMs: (this.deps.nowMs ?? Date.now)(),
          terminalId,
          secretHash,
        });
      } catch (err) {
        // Another process took the id between our look and the insert: pick another.
        if (!isStoreError(err, 'terminal-exists') || attempt >= 2) throw err;
      }
    }
  }
}

function refusal(reason: EnrollRefusalReason): EnrollResult {
  return { v: 1, ok: false, reason, message: refusalMessages[reason] };
}

import { createPublicKey, type KeyObject } from 'node:crypto';
import { dirname, join } from 'node:path';
import { commitStaged, discardStaged, stageFile, type StagedFile } from '../../protocol/atomicFile.js';
import { describeIssues } from '../../protocol/configFile.js';
import { verifyEnrollmentQr, type EnrollmentQr, type EnrollResult } from '../../protocol/enrollment.js';
import { keyFileNames, keyId } from '../../protocol/keys.js';
import { terminalConfigSchema, type HardwareConfig, type TerminalConfigInput } from '../config.js';

/**
 * Turns the central's answer into files: the deployment's public key and ref key in
 * `keys/` beside the config, then the complete terminal config over the hardware config it
 * was started with (mode 0600: it holds the secret). Every file is written and fsynced
 * under a temporary name first and the config is renamed last, so a power cut leaves
 * either the old hardware config (enrollment runs again) or a complete, usable terminal.
 */

export type Granted = Extract<EnrollResult, { ok: true }>;

/**
 * The terminal's own check of the answer: the key it was handed must be the one the QR
 * names, and must have signed the QR, for the same checkpoint. A central that passes its
 * own check with one key and hands out another is not to be trusted with the gate.
 */
export function answerProblem(qr: EnrollmentQr, granted: Granted): string | null {
  let authority: KeyObject;
  try {
    authority = createPublicKey(granted.authorityPub);
  } catch {
    return 'the authority key is not a public key';
  }
  if (authority.asymmetricKeyType !== 'ed25519') return 'the authority key is not Ed25519';
  if (keyId(authority) !== qr.body.deployment) return 'the authority key is not the one the QR names';
  if (!verifyEnrollmentQr(qr, authority)) return 'the QR does not verify with the authority key handed over';
  if (granted.checkpoint.code !== qr.body.checkpoint) return `the checkpoint ${granted.checkpoint.code} is not the QR's ${qr.body.checkpoint}`;
  return null;
}

export class EnrollmentConfigError extends Error {
  readonly code = 'enroll-config-invalid';
  constructor(readonly problems: readonly string[]) {
    super(`the enrolled config would be invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnrollmentConfigError';
  }
}

/** The complete terminal config: the hardware as configured, the identity as granted. */
export function enrolledConfig(hardware: HardwareConfig, granted: Granted, url: string): TerminalConfigInput {
  return {
    terminalId: granted.terminalId,
    checkpoint: granted.checkpoint,
    dataDir: hardware.dataDir,
    keys: { listPublicKeys: [`keys/${keyFileNames.authorityPub}`], refKey: `keys/${keyFileNames.refKey}` },
    lists: granted.lists,
    lanes: hardware.lanes,
    ...(hardware.policy ? { policy: hardware.policy } : {}),
    ...(hardware.storage ? { storage: hardware.storage } : {}),
    ...(hardware.log ? { log: hardware.log } : {}),
    central: { url, username: granted.terminalId, password: granted.secret, ...(hardware.centralCa ? { ca: hardware.centralCa } : {}) },
  };
}

/** Throws EnrollmentConfigError (nothing written) when the checkpoint does not fit the lanes, e.g. manual confirmation at an unattended lane. */
export function saveEnrollment(configFile: string, hardware: HardwareConfig, granted: Granted, url: string): void {
  const valid = terminalConfigSchema.safeParse(enrolledConfig(hardware, granted, url));
  // The messages name fields and rules, never values: the secret is among them.
  if (!valid.success) throw new EnrollmentConfigError(describeIssues(valid.error));
  const keysDir = join(dirname(configFile), 'keys');
  const staged: StagedFile[] = [];
  try {
    staged.push(stageFile(join(keysDir, keyFileNames.authorityPub), granted.authorityPub, 0o644));
    staged.push(stageFile(join(keysDir, keyFileNames.refKey), Buffer.from(granted.refKey, 'base64'), 0o600));
    // Written with every default filled in, as `terminals add` does: the technician sees each setting.
    staged.push(stageFile(configFile, `${JSON.stringify(valid.data, null, 2)}\n`, 0o600));
    commitStaged(staged);
  } finally {
    discardStaged(staged);
  }
}

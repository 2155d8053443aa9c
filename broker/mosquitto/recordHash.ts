import { TerminalProvisioningError } from '../registry/terminalProvisioning.js';
import { MosquittoHashLedger } from './hashLedger.js';

/**
 * Records a terminal's newly issued secret in the Mosquitto ledger of `dataDir`, before the
 * store takes its hash (hashLedger.ts). A failure refuses the operation with the store
 * untouched: a terminal added or re-keyed without its Mosquitto hash could not log in to a
 * Mosquitto-fronted fleet, and nobody would know until the next `mosquitto-config`.
 */
export async function recordMosquittoHash(dataDir: string, terminalId: string, secretHash: string, secret: string): Promise<void> {
  const ledger = new MosquittoHashLedger(dataDir);
  try {
    await ledger.recordTerminal(terminalId, secretHash, secret);
  } catch (err) {
    throw new TerminalProvisioningError('write-failed', `cannot record the Mosquitto hash in ${ledger.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

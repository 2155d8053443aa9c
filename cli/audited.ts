import { recordCliAudit } from '../broker/access/audit.js';
import type { AuditFact } from '../broker/access/auditFacts.js';
import type { CentralConfig } from '../broker/config.js';
import { withRegistry } from '../broker/registry/registryDb.js';

/**
 * Runs a state-changing command's operation, then records it in the central's audit log as
 * `cli:<os user>` from `cli` (issue 12 point 8): the API records the same facts as its
 * callers. Only after success, so a refused change leaves no entry claiming it happened.
 * The operation and the record are not one transaction (the store and the registry are
 * separate connections); should the record fail, the command fails loudly with the change
 * made, which the operator then sees, rather than the change going unrecorded in silence.
 */
export async function audited<T>(config: CentralConfig, operation: () => Promise<T>, fact: (result: T) => AuditFact): Promise<T> {
  const result = await operation();
  await withRegistry(config, (db) => recordCliAudit(db, fact(result)));
  return result;
}

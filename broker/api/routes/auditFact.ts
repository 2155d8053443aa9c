import type { Logger } from '../../../protocol/logger.js';
import type { AuditFact } from '../../access/auditFacts.js';
import { actorOf } from '../../access/roles.js';
import type { AuthorizedRequest } from '../route.js';

/**
 * Records an admin change made through the API: the audit entry (the same fact the CLI
 * records, broker/access/auditFacts.ts) and one `api.admin-change` log line naming only
 * the action, the target and who; details stay in the audit log.
 */
export function recordFact(request: AuthorizedRequest, logger: Logger, fact: AuditFact): void {
  request.audit(fact);
  logger.info({ action: fact.action, target: fact.target, actor: actorOf(request.principal) }, 'api.admin-change');
}

/** Answers carrying a password, a token or a secret must not be kept by a browser or a proxy. */
export const noStore = { 'cache-control': 'no-store' } as const;

import { z } from 'zod';
import { searchAudit } from '../../access/audit.js';
import { parseQuery } from '../query.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';

const filter = z.string().min(1, { message: 'is empty' }).max(200, { message: 'is longer than 200 characters' });

const auditQuery = z.strictObject({
  limit: z.coerce.number({ message: 'expected a whole number' }).int({ message: 'expected a whole number' }).min(1).max(500).default(100),
  /** The previous page's `nextBefore`. */
  before: z.coerce.number({ message: 'expected an entry id' }).int({ message: 'expected an entry id' }).min(1).optional(),
  actor: filter.optional(),
  action: filter.optional(),
});

/**
 * `GET /api/audit?limit=&before=&actor=&action=`: the audit log, newest first, admin only.
 * Keyset paging on the entry id (`nextBefore`), so a page is as quick at the millionth
 * entry as at the first and a new entry never shifts the next page.
 */
export function auditRoute(deps: Pick<RouteDeps, 'registry'>): ProtectedRoute {
  return {
    path: '/api/audit',
    readsQuery: true,
    access: only('admin'),
    async handle({ query }) {
      return { status: 200, json: await searchAudit(deps.registry, parseQuery(query, auditQuery)) };
    },
  };
}

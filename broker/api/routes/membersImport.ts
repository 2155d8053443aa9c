import { Readable } from 'node:stream';
import { importMembers, MembersImportError } from '../../registry/membersImport.js';
import { withRegistryDb } from '../../registry/registryDb.js';
import { membersImported } from '../../registry/registryAudit.js';
import { HttpError } from '../http.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { lazyRefHasher } from './registryScope.js';

/** Room for about 100,000 rows of the members file (a row is ~150 bytes with a long address). */
export const membersImportBodyLimit = 64 * 1024 * 1024;

/** Problems listed in a refusal; the rest are counted (a wrong file can have one per line). */
const maxProblemsListed = 1000;

/**
 * `POST /api/members/import`, body text/csv: `qrgate members import` over HTTP, all or
 * nothing. A bad file is a 400 listing each problem by line and field, never quoting a cell.
 * It runs on a connection of its own: the import stages rows in a temp table inside a
 * transaction while it reads, and on the API's shared connection other requests' writes
 * would land in that transaction (and share its fate).
 */
export function membersImportRoute(deps: Pick<RouteDeps, 'config' | 'logger' | 'now'>): ProtectedRoute {
  const hasher = lazyRefHasher(deps);
  return {
    method: 'POST',
    path: '/api/members/import',
    access: only('admin', 'manager'),
    bodyLimit: membersImportBodyLimit,
    async handle({ body, principal, audit }) {
      if (typeof body !== 'string') throw new HttpError(415, 'unsupported-media-type', 'body: send the members file as text/csv');
      const onlyUnit = principal.role === 'manager' ? principal.unit! : undefined;
      try {
        const result = await withRegistryDb(deps.config, (db) =>
          importMembers({
            db,
            hasher: hasher(),
            input: Readable.from([body]),
            logger: deps.logger,
            nowMs: deps.now,
            maxProblems: maxProblemsListed,
            ...(onlyUnit === undefined ? {} : { onlyUnit }),
          }),
        );
        audit(membersImported(result, onlyUnit ?? null));
        return { status: 200, json: result };
      } catch (err) {
        if (!(err instanceof MembersImportError)) throw err;
        return { status: 400, json: { error: 'bad-request', reason: err.message, rows: err.rows, problemCount: err.problemCount, problems: err.problems } };
      }
    },
  };
}

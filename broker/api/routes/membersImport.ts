import { Readable } from 'node:stream';
import type { Principal } from '../../access/roles.js';
import { importMembers, MembersImportError, previewMembersImport, type ImportMembersOptions, type ImportPreview, type ImportResult } from '../../registry/membersImport.js';
import { membersImported } from '../../registry/registryAudit.js';
import { HttpError } from '../http.js';
import { only, type AuthorizedRequest, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { lazyRefHasher } from './registryScope.js';

/** Room for about 100,000 rows of the members file (a row is ~150 bytes with a long address). */
export const membersImportBodyLimit = 64 * 1024 * 1024;

/** Problems listed in a refusal; the rest are counted (a wrong file can have one per line). */
const maxProblemsListed = 1000;

/**
 * The members file of a request, checked or imported as its principal: a manager's rows must
 * all be of their unit. The API's import and the console's preview and import run these.
 * They run on the central's registry: the import stages rows in a table of its own and
 * holds no transaction while it reads, so other requests go on meanwhile.
 */
export function membersFileRunner(deps: Pick<RouteDeps, 'registry' | 'config' | 'logger' | 'now'>) {
  const hasher = lazyRefHasher(deps);
  const options = (principal: Principal, csv: string): ImportMembersOptions => ({
    db: deps.registry,
    hasher: hasher(),
    input: Readable.from([csv]),
    logger: deps.logger,
    nowMs: deps.now,
    maxProblems: maxProblemsListed,
    ...(principal.role === 'manager' ? { onlyUnit: principal.unit! } : {}),
  });
  return {
    preview: (principal: Principal, csv: string): Promise<ImportPreview> => previewMembersImport(options(principal, csv)),
    /** Checked whole before anything is written, then written in chunks, audited; throws MembersImportError (nothing written) on a bad file. */
    async import(request: Pick<AuthorizedRequest, 'principal' | 'audit'>, csv: string): Promise<ImportResult> {
      const result = await importMembers(options(request.principal, csv));
      request.audit(membersImported(result, request.principal.role === 'manager' ? request.principal.unit! : null));
      return result;
    },
  };
}

/**
 * `POST /api/members/import`, body text/csv: `qrgate members import` over HTTP, all or
 * nothing. A bad file is a 400 listing each problem by line and field, never quoting a cell.
 */
export function membersImportRoute(deps: Pick<RouteDeps, 'registry' | 'config' | 'logger' | 'now'>): ProtectedRoute {
  const runner = membersFileRunner(deps);
  return {
    method: 'POST',
    path: '/api/members/import',
    access: only('admin', 'manager'),
    bodyLimit: membersImportBodyLimit,
    async handle(request) {
      const { body } = request;
      if (typeof body !== 'string') throw new HttpError(415, 'unsupported-media-type', 'body: send the members file as text/csv');
      try {
        return { status: 200, json: await runner.import(request, body) };
      } catch (err) {
        if (!(err instanceof MembersImportError)) throw err;
        return { status: 400, json: { error: 'bad-request', reason: err.message, rows: err.rows, problemCount: err.problemCount, problems: err.problems } };
      }
    },
  };
}

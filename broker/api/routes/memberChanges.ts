import { z } from 'zod';
import { unitSchema } from '../../access/roles.js';
import { findMember } from '../../registry/memberQueries.js';
import { addMember, checkMemberChanges, removeMember, updateMember, type MemberChanges } from '../../registry/members.js';
import { memberAdded, memberRemoved, memberUpdated } from '../../registry/registryAudit.js';
import { forbidden } from '../http.js';
import { parseBody } from '../query.js';
import { only, type AuthorizedRequest, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { lazyRefHasher, memberInScope, unitInScope } from './registryScope.js';

/**
 * Adding, changing and removing one person: `members update`, `set-status` and `remove`
 * over HTTP. Fields are checked by the members file's rules (memberRow.ts); the zod schemas
 * here only insist on strings, so a person gets the same message from either door.
 */

const text = z.string().max(1000, { message: 'at most 1000 characters' });

const addBody = z.strictObject({
  name: text,
  phone: text,
  address: text.default(''),
  /** A manager may leave it out: the member joins the manager's unit. */
  unit: unitSchema.optional(),
  scope: text,
  idNumber: z.string().max(64, { message: 'is too long for an ID number' }),
  status: text.default('allow'),
});

const changeBody = z
  .strictObject({ name: text.optional(), phone: text.optional(), address: text.optional(), unit: text.optional(), scope: text.optional() })
  .refine((body) => Object.values(body).some((value) => value !== undefined), { message: 'nothing to change: give at least one of name, phone, address, unit, scope' });

const statusBody = z.strictObject({ status: text });

const plainLabel = (field: string) => field;

/** Applies checked changes to the member at `{ref}`; a manager may not send a member to another unit. */
async function change(deps: Pick<RouteDeps, 'registry' | 'now'>, request: AuthorizedRequest, changes: MemberChanges, action: 'member.update' | 'member.set-status') {
  const member = await memberInScope(deps.registry, request.principal, request.params.ref!);
  if (request.principal.role === 'manager' && changes.unit !== undefined && changes.unit !== request.principal.unit) {
    throw forbidden(`a manager cannot move a member to another unit than ${request.principal.unit}`);
  }
  const ref = Buffer.from(member.ref, 'hex');
  const result = await updateMember(deps.registry, { ref, idMasked: member.idMasked }, changes, deps.now());
  if (result.changed.length > 0) {
    request.audit(memberUpdated(result, action));
  }
  return { status: 200, json: { changed: result.changed, member: await findMember(deps.registry, ref) } };
}

export function memberChangeRoutes(deps: Pick<RouteDeps, 'registry' | 'config' | 'now'>): ProtectedRoute[] {
  const hasher = lazyRefHasher(deps);
  return [
    {
      method: 'POST',
      path: '/api/members',
      access: only('admin', 'manager'),
      async handle(request) {
        const { unit, ...fields } = parseBody(request.body, addBody);
        const added = await addMember(deps.registry, hasher(), { ...fields, unit: unitInScope(request.principal, unit) ?? '' }, deps.now());
        request.audit(memberAdded(added));
        return { status: 201, json: { member: await findMember(deps.registry, added.ref) } };
      },
    },
    {
      method: 'PATCH',
      path: '/api/members/{ref}',
      access: only('admin', 'manager'),
      async handle(request) {
        return change(deps, request, checkMemberChanges(parseBody(request.body, changeBody), plainLabel), 'member.update');
      },
    },
    {
      method: 'POST',
      path: '/api/members/{ref}/status',
      access: only('admin', 'manager'),
      async handle(request) {
        return change(deps, request, checkMemberChanges(parseBody(request.body, statusBody), plainLabel), 'member.set-status');
      },
    },
    {
      method: 'DELETE',
      path: '/api/members/{ref}',
      access: only('admin', 'manager'),
      async handle(request) {
        const member = await memberInScope(deps.registry, request.principal, request.params.ref!);
        const removed = await removeMember(deps.registry, { ref: Buffer.from(member.ref, 'hex'), idMasked: member.idMasked });
        request.audit(memberRemoved(removed));
        return { status: 200, json: { ...removed, removed: true } };
      },
    },
  ];
}

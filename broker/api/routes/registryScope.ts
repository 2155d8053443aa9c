import { z } from 'zod';
import type { RefHasher } from '../../../protocol/credentialRef.js';
import { managesMember, unitSchema, type Principal } from '../../access/roles.js';
import { findMember, type RegistryMember } from '../../registry/memberQueries.js';
import { decodePageCursor } from '../../registry/pageCursor.js';
import { registryRefHasher } from '../../registry/registryDb.js';
import type { CardSelection } from '../../registry/cards.js';
import type { RegistryDb } from '../../store/sql/registryDb.js';
import { badRequest, forbidden, notFound } from '../http.js';
import type { RouteDeps } from './deps.js';

/**
 * What the registry routes (members, cards, lists) share: the manager's unit as a filter,
 * a member named by ref in the path, page parameters, and the deployment's ref hasher.
 */

/**
 * The unit a request works in: an admin's `unit` as given (undefined: every unit); a
 * manager's own unit whether named or not, and 403 when it names another.
 */
export function unitInScope(principal: Principal, unit: string | undefined): string | undefined {
  if (principal.role !== 'manager') return unit;
  if (unit !== undefined && unit !== principal.unit) throw forbidden(`unit "${unit}" is not ${principal.unit}, the unit you manage`);
  return principal.unit!;
}

const refPattern = /^[0-9a-f]{64}$/i;

/** The member a `{ref}` path names: 400 when it is not a ref, 404 when nobody has it, 403 when another unit's. */
export async function memberInScope(db: RegistryDb, principal: Principal, refHex: string): Promise<RegistryMember> {
  if (!refPattern.test(refHex)) throw badRequest('ref: expected the 64 hex digits of a member ref, as GET /api/members gives it');
  return memberByRef(db, principal, Buffer.from(refHex, 'hex'));
}

export async function memberByRef(db: RegistryDb, principal: Principal, ref: Buffer): Promise<RegistryMember> {
  const member = await findMember(db, ref);
  if (member === null) throw notFound('no member is registered under that ref');
  if (!managesMember(principal, member)) throw forbidden(`member ${member.idMasked} belongs to another unit than ${principal.unit}`);
  return member;
}

export const maxPageLimit = 500;

export const pageLimit = z
  .string()
  .refine((value) => /^\d{1,4}$/.test(value) && Number(value) >= 1 && Number(value) <= maxPageLimit, { message: `expected a whole number from 1 to ${maxPageLimit}` })
  .transform(Number)
  .default(50);

/** A cursor from the previous page of the same list (`kind` as pageCursor.ts tags it), as the key to continue after. */
export function pageCursor(kind: string) {
  return z
    .string()
    .transform((text, ctx) => {
      const after = decodePageCursor(kind, text);
      if (after === null) {
        ctx.addIssue({ code: 'custom', message: 'not a cursor from a previous page of this list' });
        return z.NEVER;
      }
      return after;
    })
    .optional();
}

/**
 * The ref hasher, its key read on first use: a central whose ref key is missing still
 * serves everything else, and says why here.
 */
export function lazyRefHasher(deps: Pick<RouteDeps, 'config'>): () => RefHasher {
  let hasher: RefHasher | undefined;
  return () => (hasher ??= registryRefHasher(deps.config));
}

/**
 * The members a request picks, narrowed to what the principal manages: a manager's "all"
 * or "scope" means within its unit, and a member of another unit is refused.
 */
export async function selectionInScope(
  deps: Pick<RouteDeps, 'registry'>,
  principal: Principal,
  picked: { memberRef?: string | undefined; unit?: string | undefined; scope?: string | undefined },
): Promise<{ selection: CardSelection; idMasked?: string }> {
  if (picked.memberRef !== undefined) {
    const member = await memberInScope(deps.registry, principal, picked.memberRef);
    return { selection: { by: 'member', idRef: Buffer.from(member.ref, 'hex') }, idMasked: member.idMasked };
  }
  const unit = unitInScope(principal, picked.unit);
  if (unit !== undefined) return { selection: { by: 'unit', unit, scope: picked.scope } };
  if (picked.scope !== undefined) return { selection: { by: 'scope', scope: picked.scope } };
  return { selection: { by: 'all' } };
}

import type { MemberSummary } from '../store/centralStore.js';
import type { RoleScope } from './roles.js';

/**
 * What a principal may see of the person behind a scan (issue 12 point 3):
 * - an admin, and the manager of the person's own unit: everything the registry keeps;
 * - a manager of another unit: that the person belongs to another unit, and the masked ID;
 *   no name, phone or address;
 * - a guard: name, unit and status, to recognise the person at the gate; no phone or address;
 * - an inspector: nothing (the routes give inspectors no events at all).
 */
export type MemberView =
  | MemberSummary
  | { readonly otherUnit: true; readonly unit: string; readonly idMasked: string }
  | { readonly name: string; readonly unit: string; readonly idMasked: string; readonly status: MemberSummary['status'] };

export function memberViewFor(principal: RoleScope, member: MemberSummary): MemberView | null {
  switch (principal.role) {
    case 'admin':
      return member;
    case 'manager':
      return member.unit === principal.unit ? member : { otherUnit: true, unit: member.unit, idMasked: member.idMasked };
    case 'guard':
      return { name: member.name, unit: member.unit, idMasked: member.idMasked, status: member.status };
    case 'inspector':
      return null;
  }
}

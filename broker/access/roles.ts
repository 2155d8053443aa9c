import { z } from 'zod';
import { checkpointCodeSchema } from '../../protocol/checkpointCode.js';

/**
 * Who may do what at the central (issue 12, docs/security.md). Four roles:
 * - `admin`: everything, users, tokens, terminals, keys and the audit log included;
 * - `manager` of one unit: that unit's members, cards, checkpoints and lists, and events at
 *   its checkpoints; another unit's member shows as such, by masked ID only;
 * - `guard` of some checkpoints: live events and counts there, and pending scans there;
 * - `inspector`: the counts of every checkpoint, no personal data anywhere.
 * A principal is the person or program behind one request, with its role and scope.
 */

export const roles = ['admin', 'manager', 'guard', 'inspector'] as const;
export type Role = (typeof roles)[number];

export const roleSchema = z.enum(roles, { message: `expected one of ${roles.join(', ')}` });

/** As the members file checks a unit (broker/registry/memberRow.ts): what a manager's unit is matched against. */
export const unitSchema = z
  .string()
  .transform((value) => value.normalize('NFC').replace(/\s+/g, ' ').trim())
  .pipe(z.string().min(1, { message: 'is empty' }).max(100, { message: 'is longer than 100 characters' }));

export const guardCheckpointsSchema = z.array(checkpointCodeSchema).min(1, { message: 'a guard needs at least one checkpoint' }).max(100);

/** The scope a role carries: a unit for a manager, checkpoints for a guard, nothing else. */
export interface RoleScope {
  readonly role: Role;
  /** The manager's unit; null for every other role. */
  readonly unit: string | null;
  /** The guard's checkpoint codes; empty for every other role. */
  readonly checkpoints: readonly string[];
}

export interface Principal extends RoleScope {
  readonly kind: 'user' | 'token' | 'cli';
  /** The username, the token's id, or the OS user running the CLI. */
  readonly id: string;
  /** A read-only token may read whatever its role may, and change nothing. */
  readonly readOnly: boolean;
}

/** How the audit log names a principal: `user:lan`, `token:k3j9…`, `cli:root`. */
export function actorOf(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/** "an admin", "an inspector", "a guard": the refusals below read as sentences. */
function withArticle(role: Role): string {
  return `${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}`;
}

export class RoleScopeError extends Error {
  readonly code = 'role-scope-invalid';
  constructor(message: string) {
    super(message);
    this.name = 'RoleScopeError';
  }
}

/**
 * Checks that a role comes with exactly the scope it needs: a unit for a manager, one or
 * more checkpoint codes (Damm-checked) for a guard, neither for the others. Every problem
 * is named at once.
 */
export function checkRoleScope(input: { readonly role: string; readonly unit?: string | null | undefined; readonly checkpoints?: readonly string[] | undefined }): RoleScope {
  const problems: string[] = [];
  const role = roleSchema.safeParse(input.role);
  if (!role.success) problems.push(`role: expected one of ${roles.join(', ')}`);
  const hasUnit = input.unit !== undefined && input.unit !== null;
  const hasCheckpoints = input.checkpoints !== undefined && input.checkpoints.length > 0;
  let unit: string | null = null;
  let checkpoints: string[] = [];
  if (role.success && role.data === 'manager') {
    const parsed = unitSchema.safeParse(input.unit ?? '');
    if (!hasUnit) problems.push('unit: a manager needs the unit it manages');
    else if (!parsed.success) problems.push(`unit ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
    else unit = parsed.data;
  } else if (hasUnit && role.success) {
    problems.push(`unit: only a manager has a unit, not ${withArticle(role.data)}`);
  }
  if (role.success && role.data === 'guard') {
    const parsed = guardCheckpointsSchema.safeParse(input.checkpoints ?? []);
    if (!parsed.success) problems.push(`checkpoints: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    else checkpoints = [...new Set(parsed.data)];
  } else if (hasCheckpoints && role.success) {
    problems.push(`checkpoints: only a guard has checkpoints, not ${withArticle(role.data)}`);
  }
  if (problems.length > 0 || !role.success) throw new RoleScopeError(problems.join('; '));
  return { role: role.data, unit, checkpoints };
}

/** A checkpoint as scoping needs it. */
export interface ScopedCheckpoint {
  readonly code: string;
  readonly unit: string;
}

/** Whether the principal may see this checkpoint's events and counts. Inspectors see counts only (the routes decide which). */
export function seesCheckpoint(principal: RoleScope, checkpoint: ScopedCheckpoint): boolean {
  switch (principal.role) {
    case 'admin':
    case 'inspector':
      return true;
    case 'manager':
      return checkpoint.unit === principal.unit;
    case 'guard':
      return principal.checkpoints.includes(checkpoint.code);
  }
}

/** Whether the principal may change this checkpoint (edit, retire): admins, and the manager of its unit. */
export function managesCheckpoint(principal: RoleScope, checkpoint: ScopedCheckpoint): boolean {
  return principal.role === 'admin' || (principal.role === 'manager' && checkpoint.unit === principal.unit);
}

/** Whether the principal may see and change this member: admins, and the manager of the member's unit. */
export function managesMember(principal: RoleScope, member: { readonly unit: string }): boolean {
  return principal.role === 'admin' || (principal.role === 'manager' && member.unit === principal.unit);
}

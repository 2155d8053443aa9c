import { describe, expect, it } from 'vitest';
import {
  actorOf,
  checkRoleScope,
  managesCheckpoint,
  managesMember,
  RoleScopeError,
  seesCheckpoint,
  type RoleScope,
} from '../../../broker/access/roles.js';
import { dammCheckDigit } from '../../../protocol/checkpointCode.js';

/** Who may do what at the central, one function at a time (the API matrix checks them through HTTP). */

const code = (digits: string) => `${digits}${dammCheckDigit(digits)}`;
const CP_NORTH = code('1000000000000');
const CP_SOUTH = code('1000000000001');

const admin: RoleScope = { role: 'admin', unit: null, checkpoints: [] };
const inspector: RoleScope = { role: 'inspector', unit: null, checkpoints: [] };
const manager: RoleScope = { role: 'manager', unit: 'Khoa Nội', checkpoints: [] };
const guard: RoleScope = { role: 'guard', unit: null, checkpoints: [CP_NORTH] };

const north = { code: CP_NORTH, unit: 'Khoa Nội' };
const south = { code: CP_SOUTH, unit: 'Khoa Ngoại' };

function problemOf(input: Parameters<typeof checkRoleScope>[0]): string {
  try {
    checkRoleScope(input);
  } catch (err) {
    expect(err).toBeInstanceOf(RoleScopeError);
    expect(err).toMatchObject({ code: 'role-scope-invalid', name: 'RoleScopeError' });
    return (err as Error).message;
  }
  throw new Error(`${JSON.stringify(input)} was accepted`);
}

describe('checkRoleScope', () => {
  it('gives each role exactly its scope', () => {
    expect(checkRoleScope({ role: 'admin' })).toEqual(admin);
    expect(checkRoleScope({ role: 'inspector', unit: null, checkpoints: [] })).toEqual(inspector);
    expect(checkRoleScope({ role: 'manager', unit: '  Khoa   Nội ' })).toEqual(manager);
    expect(checkRoleScope({ role: 'guard', checkpoints: [CP_NORTH, CP_SOUTH, CP_NORTH] })).toEqual({
      role: 'guard',
      unit: null,
      checkpoints: [CP_NORTH, CP_SOUTH],
    });
  });

  it('refuses an unknown role, naming the roles there are', () => {
    expect(problemOf({ role: 'root' })).toBe('role: expected one of admin, manager, guard, inspector');
    expect(problemOf({ role: 'root', unit: 'x', checkpoints: [CP_NORTH] })).toBe('role: expected one of admin, manager, guard, inspector');
  });

  it('refuses a manager without a unit, or with an empty or overlong one', () => {
    expect(problemOf({ role: 'manager' })).toBe('unit: a manager needs the unit it manages');
    expect(problemOf({ role: 'manager', unit: null })).toBe('unit: a manager needs the unit it manages');
    expect(problemOf({ role: 'manager', unit: '   ' })).toBe('unit is empty');
    expect(problemOf({ role: 'manager', unit: 'x'.repeat(101) })).toBe('unit is longer than 100 characters');
  });

  it('refuses a unit on any other role, with the right article', () => {
    expect(problemOf({ role: 'admin', unit: 'Khoa Nội' })).toBe('unit: only a manager has a unit, not an admin');
    expect(problemOf({ role: 'inspector', unit: '' })).toBe('unit: only a manager has a unit, not an inspector');
    expect(problemOf({ role: 'guard', unit: 'Khoa Nội', checkpoints: [CP_NORTH] })).toBe('unit: only a manager has a unit, not a guard');
  });

  it('refuses a guard without checkpoints or with a mistyped one', () => {
    expect(problemOf({ role: 'guard' })).toBe('checkpoints: a guard needs at least one checkpoint');
    expect(problemOf({ role: 'guard', checkpoints: [] })).toBe('checkpoints: a guard needs at least one checkpoint');
    expect(problemOf({ role: 'guard', checkpoints: ['10000000000001'] })).toMatch(/^checkpoints: /);
  });

  it('refuses checkpoints on any other role, and names every problem at once', () => {
    expect(problemOf({ role: 'admin', checkpoints: [CP_NORTH] })).toBe('checkpoints: only a guard has checkpoints, not an admin');
    expect(problemOf({ role: 'inspector', checkpoints: [CP_NORTH] })).toBe('checkpoints: only a guard has checkpoints, not an inspector');
    expect(problemOf({ role: 'manager', checkpoints: [CP_NORTH] })).toBe(
      'unit: a manager needs the unit it manages; checkpoints: only a guard has checkpoints, not a manager',
    );
    expect(checkRoleScope({ role: 'admin', checkpoints: [] })).toEqual(admin);
  });
});

describe('what a principal may see and change', () => {
  it('lets admins and inspectors see every checkpoint, a manager its unit and a guard its own', () => {
    for (const checkpoint of [north, south]) {
      expect(seesCheckpoint(admin, checkpoint)).toBe(true);
      expect(seesCheckpoint(inspector, checkpoint)).toBe(true);
    }
    expect(seesCheckpoint(manager, north)).toBe(true);
    expect(seesCheckpoint(manager, south)).toBe(false);
    expect(seesCheckpoint(guard, north)).toBe(true);
    expect(seesCheckpoint(guard, south)).toBe(false);
  });

  it('lets only admins and the manager of the unit change a checkpoint or a member', () => {
    for (const [principal, own, other] of [
      [admin, true, true],
      [manager, true, false],
      [guard, false, false],
      [inspector, false, false],
    ] as const) {
      expect(managesCheckpoint(principal, north)).toBe(own);
      expect(managesCheckpoint(principal, south)).toBe(other);
      expect(managesMember(principal, { unit: north.unit })).toBe(own);
      expect(managesMember(principal, { unit: south.unit })).toBe(other);
    }
    // A guard or inspector whose unit happened to be set still manages nothing.
    expect(managesCheckpoint({ ...guard, unit: north.unit }, north)).toBe(false);
    expect(managesMember({ ...inspector, unit: north.unit }, north)).toBe(false);
  });

  it('names a principal in the audit log by kind and id', () => {
    expect(actorOf({ ...admin, kind: 'token', id: 'k3j9', readOnly: true })).toBe('token:k3j9');
  });
});

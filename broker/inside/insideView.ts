import { memberViewFor, type MemberView } from '../access/memberView.js';
import type { Principal } from '../access/roles.js';
import type { Checkpoint, CentralStore, InsidePassage, MemberSummary } from '../store/centralStore.js';
import type { RegistryDb } from '../store/sql/registryDb.js';
import { currentRollCalls, marksOf, type RollCall, type SafeMark } from './rollCalls.js';

/**
 * Who is inside now, as one principal may see it (issue 14 page 5), grouped by the unit of
 * the checkpoint each person went in at: the site or organisation running that gate is what
 * a guard or a manager calls "our site", and it is what an evacuation counts.
 *
 * Scope (docs/central.md, docs/security.md):
 * - admin: everyone;
 * - manager: the members of its own unit, wherever they went in, and unregistered cards that
 *   went in at its unit's checkpoints; nobody of another unit;
 * - guard: everyone who went in at one of its checkpoints, as the guard screen shows people;
 * - inspector: nobody (the routes refuse it).
 */

export interface InsidePerson {
  readonly ref: string;
  /** When they went in, ISO 8601 (the terminal's clock). */
  readonly since: string;
  readonly checkpointCode: string;
  readonly checkpointName: string;
  /** Null: a card or ID number nobody registered; shown without personal data. */
  readonly member: MemberView | null;
  /** Marked safe in the group's current roll call; null when not (or no roll call). */
  readonly safe: SafeMark | null;
}

export interface InsideGroup {
  /** The checkpoints' unit; '' for checkpoints with no unit. */
  readonly unit: string;
  readonly rollCall: RollCall | null;
  readonly people: readonly InsidePerson[];
  /** People not marked safe in the current roll call (all of them without one). */
  readonly missing: number;
}

export interface InsideNow {
  readonly now: string;
  readonly expiryHours: number;
  readonly total: number;
  readonly groups: readonly InsideGroup[];
}

export interface InsideDeps {
  readonly store: Pick<CentralStore, 'insideNow' | 'membersByRefs' | 'listCheckpoints'>;
  readonly registry: RegistryDb;
  readonly expiryHours: number;
}

function visibleTo(principal: Principal, passage: InsidePassage, checkpoint: Checkpoint | undefined, member: MemberSummary | undefined): boolean {
  switch (principal.role) {
    case 'admin':
      return true;
    case 'manager':
      return member === undefined ? checkpoint?.unit === principal.unit : member.unit === principal.unit;
    case 'guard':
      return principal.checkpoints.includes(passage.checkpointCode);
    case 'inspector':
      return false;
  }
}

const collator = new Intl.Collator('vi');
const nameOf = (person: InsidePerson): string | null => (person.member !== null && 'name' in person.member ? person.member.name : null);

/** Registered people by name (Vietnamese order), then unregistered cards by when they went in. */
function rollOrder(a: InsidePerson, b: InsidePerson): number {
  const [nameA, nameB] = [nameOf(a), nameOf(b)];
  if (nameA !== null && nameB !== null) return collator.compare(nameA, nameB) || a.ref.localeCompare(b.ref);
  if (nameA !== null) return -1;
  if (nameB !== null) return 1;
  return a.since.localeCompare(b.since);
}

export async function insideFor(deps: InsideDeps, principal: Principal, nowMs: number): Promise<InsideNow> {
  const passages = principal.role === 'inspector' ? [] : await deps.store.insideNow(nowMs - deps.expiryHours * 3_600_000);
  const checkpoints = new Map((await deps.store.listCheckpoints()).map((c) => [c.code, c]));
  const members = passages.length === 0 ? new Map<string, MemberSummary>() : await deps.store.membersByRefs(passages.map((p) => p.ref));
  const byUnit = new Map<string, Omit<InsidePerson, 'safe'>[]>();
  for (const passage of passages) {
    const checkpoint = checkpoints.get(passage.checkpointCode);
    const member = members.get(passage.ref);
    if (!visibleTo(principal, passage, checkpoint, member)) continue;
    const unit = checkpoint?.unit ?? '';
    const people = byUnit.get(unit) ?? [];
    people.push({ ...passage, checkpointName: checkpoint?.name ?? passage.checkpointCode, member: member === undefined ? null : memberViewFor(principal, member) });
    byUnit.set(unit, people);
  }
  const units = [...byUnit.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : collator.compare(a, b)));
  const rollCalls = await currentRollCalls(deps.registry, units);
  const groups: InsideGroup[] = [];
  for (const unit of units) {
    const rollCall = rollCalls.get(unit) ?? null;
    const marks = rollCall === null ? new Map<string, SafeMark>() : await marksOf(deps.registry, rollCall.id);
    const people = byUnit.get(unit)!.map((person) => ({ ...person, safe: marks.get(person.ref) ?? null })).sort(rollOrder);
    groups.push({ unit, rollCall, people, missing: people.filter((person) => person.safe === null).length });
  }
  return { now: new Date(nowMs).toISOString(), expiryHours: deps.expiryHours, total: groups.reduce((sum, group) => sum + group.people.length, 0), groups };
}

/** The person with this ref as the principal sees them, and their group; null when not inside or out of scope. */
export function findInside(view: InsideNow, ref: string): { readonly group: InsideGroup; readonly person: InsidePerson } | null {
  for (const group of view.groups) {
    const person = group.people.find((p) => p.ref === ref);
    if (person !== undefined) return { group, person };
  }
  return null;
}

/** How the audit log names a person taken out or marked: the masked ID of a member, else the start of the card's ref. */
export function auditTarget(person: InsidePerson): string {
  return person.member === null ? `unregistered:${person.ref.slice(0, 12)}` : person.member.idMasked;
}

import { z } from 'zod';
import { hex64 } from '../../../protocol/event.js';
import { actorOf, unitSchema, type Principal } from '../../access/roles.js';
import { auditTarget, findInside, insideFor, type InsideNow } from '../../inside/insideView.js';
import { currentRollCalls, markSafe, rollCallById, startRollCall, type RollCall, type SafeMark } from '../../inside/rollCalls.js';
import { conflict, forbidden, notFound, type ApiResponse } from '../http.js';
import { parseBody } from '../query.js';
import { only, type AuthorizedRequest, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';

/**
 * Who is inside now (issue 14 page 5) as JSON, and the three things an operator does with
 * it: start a roll call, mark a person safe in it, take a person out of "inside". The
 * console's /inside page runs the same functions. Scope is broker/inside/insideView.ts's;
 * every change is audited (`rollcall.start`, `rollcall.mark`, `inside.take-out`).
 */

export type InsideRouteDeps = Pick<RouteDeps, 'store' | 'registry' | 'config' | 'now' | 'logger'>;

const viewers = only('admin', 'manager', 'guard');
/** Taking someone out corrects the record: an operator's act, not a guard's. */
const operators = only('admin', 'manager');
const bodyLimit = 4 * 1024;
export const maxTakeOutReasonLength = 200;

/** '' is the group of checkpoints with no unit. */
const groupUnit = z.union([z.literal(''), unitSchema]);
/** `replaces`: the roll call under way the caller means to end (null: none); without it, a new one starts regardless. */
export const startRollCallSchema = z.strictObject({ unit: groupUnit, replaces: z.number().int().positive().nullable().optional() });
export const markSafeSchema = z.strictObject({ ref: hex64 });
export const takeOutSchema = z.strictObject({
  ref: hex64,
  reason: z
    .string()
    .transform((value) => value.normalize('NFC').replace(/\s+/g, ' ').trim())
    .pipe(z.string().min(1, { message: 'say why the person is taken out' }).max(maxTakeOutReasonLength, { message: `is longer than ${maxTakeOutReasonLength} characters` })),
});

export function insideNowFor(deps: InsideRouteDeps, principal: Principal): Promise<InsideNow> {
  return insideFor({ store: deps.store, registry: deps.registry, expiryHours: deps.config.inside.expiryHours }, principal, deps.now());
}

/**
 * Who may start a group's roll call: an admin any; a manager its own unit's; a guard the unit
 * of one of its checkpoints. Read per request, as every scope is.
 */
export async function mayStartRollCall(deps: Pick<RouteDeps, 'store'>, principal: Principal, unit: string): Promise<boolean> {
  switch (principal.role) {
    case 'admin':
      return true;
    case 'manager':
      return principal.unit === unit;
    case 'guard':
      return (await deps.store.listCheckpoints()).some((c) => c.unit === unit && principal.checkpoints.includes(c.code));
    case 'inspector':
      return false;
  }
}

export async function requireMayStartRollCall(deps: Pick<RouteDeps, 'store'>, principal: Principal, unit: string): Promise<void> {
  if (!(await mayStartRollCall(deps, principal, unit))) throw forbidden(`you may not start a roll call for ${unit === '' ? 'checkpoints with no unit' : `unit ${unit}`}`);
}

/**
 * Starts a new roll call for the unit. `replaces`, when given, is the roll call the person
 * agreed to end (the console asks first, since a new one starts from nobody marked): null for
 * "there was none". Another roll call started meanwhile is a 409, not a silent loss of its marks.
 */
export async function startRollCallFor(deps: InsideRouteDeps, request: AuthorizedRequest, unit: string, replaces?: number | null): Promise<RollCall> {
  await requireMayStartRollCall(deps, request.principal, unit);
  if (replaces !== undefined) {
    const open = (await currentRollCalls(deps.registry, [unit])).get(unit)?.id ?? null;
    if (open !== replaces) throw conflict(`the roll call under way is ${open ?? 'none'}, not ${replaces ?? 'none'}: someone started another; look again before replacing it`);
  }
  const rollCall = await startRollCall(deps.registry, unit, actorOf(request.principal), deps.now());
  request.audit({ action: 'rollcall.start', target: unit, details: { rollCall: rollCall.id } });
  deps.logger.info({ rollCall: rollCall.id, actor: rollCall.startedBy }, 'inside.roll-call-started');
  return rollCall;
}

/** Marked now, or already by someone else (their mark stands): either way the person is safe. */
export async function markSafeFor(deps: InsideRouteDeps, request: AuthorizedRequest, rollCallId: number, ref: string): Promise<{ marked: boolean; safe: SafeMark }> {
  const rollCall = await rollCallById(deps.registry, rollCallId);
  if (rollCall === null) throw notFound(`no roll call ${rollCallId}`);
  if ((await currentRollCalls(deps.registry, [rollCall.unit])).get(rollCall.unit)?.id !== rollCall.id) throw conflict(`roll call ${rollCallId} is over: a newer one started for its unit`);
  const found = findInside(await insideNowFor(deps, request.principal), ref);
  if (found === null || found.group.unit !== rollCall.unit) throw notFound('this person is not inside in this roll call, as far as you may see');
  if (found.person.safe !== null) return { marked: false, safe: found.person.safe };
  const by = actorOf(request.principal);
  const atMs = deps.now();
  const marked = await markSafe(deps.registry, rollCall.id, ref, by, atMs);
  if (marked) request.audit({ action: 'rollcall.mark', target: auditTarget(found.person), details: { rollCall: rollCall.id, unit: rollCall.unit } });
  return { marked, safe: { at: new Date(atMs).toISOString(), by } };
}

export async function takeOutFor(deps: InsideRouteDeps, request: AuthorizedRequest, ref: string, reason: string): Promise<void> {
  const found = findInside(await insideNowFor(deps, request.principal), ref);
  if (found === null) throw notFound('this person is not inside, as far as you may see');
  if (!(await deps.store.takeOut(ref, deps.now()))) throw notFound('this person is no longer inside');
  const { person } = found;
  request.audit({ action: 'inside.take-out', target: auditTarget(person), details: { reason, checkpointCode: person.checkpointCode, since: person.since } });
  deps.logger.info({ checkpoint: person.checkpointCode, actor: actorOf(request.principal) }, 'inside.taken-out');
}

/** A change to "inside": a small JSON body checked by `schema`, then one of the functions above. */
function insideAction<S extends z.ZodType>(path: string, access: ProtectedRoute['access'], schema: S, run: (request: AuthorizedRequest, body: z.output<S>) => Promise<ApiResponse>): ProtectedRoute {
  return {
    method: 'POST',
    path,
    access,
    bodyLimit,
    handle: (request) => run(request, parseBody(request.body, schema)),
  };
}

export function insideRoutes(deps: InsideRouteDeps): ProtectedRoute[] {
  return [
    {
      path: '/api/inside',
      access: viewers,
      async handle({ principal }) {
        return { status: 200, json: await insideNowFor(deps, principal), headers: { 'cache-control': 'no-store' } };
      },
    },
    insideAction('/api/inside/roll-calls', viewers, startRollCallSchema, async (request, { unit, replaces }) => ({
      status: 201,
      json: { rollCall: await startRollCallFor(deps, request, unit, replaces) },
    })),
    insideAction('/api/inside/roll-calls/{id}/safe', viewers, markSafeSchema, async (request, { ref }) => {
      const id = /^\d{1,15}$/.test(request.params.id ?? '') ? Number(request.params.id) : null;
      if (id === null) throw notFound(`no roll call ${String(request.params.id).slice(0, 20)}`);
      return { status: 200, json: { ref, ...(await markSafeFor(deps, request, id, ref)) } };
    }),
    insideAction('/api/inside/take-out', operators, takeOutSchema, async (request, { ref, reason }) => {
      await takeOutFor(deps, request, ref, reason);
      return { status: 200, json: { ref, takenOut: true } };
    }),
  ];
}

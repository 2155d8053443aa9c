import { z } from 'zod';
import { actorOf, type Principal } from '../../access/roles.js';
import { acknowledgeAlarm, alarmAcknowledged, alarmAcks, maxAlarmNoteLength, type AlarmAck } from '../../alarms/alarmAcks.js';
import { computeAlarms, type Alarm } from '../../alarms/alarms.js';
import { publishedVersions } from '../../lists/listVersions.js';
import { conflict, notFound } from '../http.js';
import { parseBody } from '../query.js';
import { only, type AuthorizedRequest, type ProtectedRoute, type Route } from '../route.js';
import type { RouteDeps } from './deps.js';
import { listScopesOf } from './lists.js';
import { visibleFleet } from './terminals.js';

/**
 * `GET /api/alarms` and `POST /api/alarms/{id}/acknowledge` (issue 14 point 1): the alarms
 * broker/alarms/alarms.ts raises, limited to what the principal may see (the fleet's scope:
 * a manager's unit's checkpoints, a guard's own; inspectors none), each with its
 * acknowledgement. The console's overview reads and acknowledges through the same functions.
 */

export type AlarmView = Alarm & {
  /** Null: new. */
  readonly acknowledged: AlarmAck | null;
};

export interface AlarmsAnswer {
  /** Most severe first (alarms.ts compareAlarms). */
  readonly alarms: readonly AlarmView[];
  readonly counts: { readonly new: number; readonly acknowledged: number };
}

type AlarmDeps = Pick<RouteDeps, 'store' | 'registry' | 'config' | 'now'>;

/** The roles that see and acknowledge alarms: those who run gates. Inspectors read counts only. */
export const alarmRoles = only('admin', 'manager', 'guard');

async function raisedFor(deps: AlarmDeps, principal: Principal): Promise<Alarm[]> {
  if (principal.role === 'inspector') return [];
  const terminals = (await visibleFleet(deps.store, principal)).filter((terminal) => !terminal.removed);
  // A scope's own alarm (its newest version nearing expiry) reaches whoever has a terminal on
  // it, and a manager whose unit's members are in it.
  const run = terminals.flatMap((terminal) => (terminal.telemetry?.lists ?? []).map((list) => list.scope));
  const ownScopes = principal.role === 'guard' ? [] : await listScopesOf(deps.registry, principal);
  const scopes = principal.role === 'admin' ? undefined : [...new Set([...run, ...(ownScopes ?? [])])];
  const terminalIds = new Set(terminals.map((terminal) => terminal.terminalId));
  const gaps = (await deps.store.gaps()).filter((gap) => terminalIds.has(gap.terminalId));
  return computeAlarms({ terminals, gaps, lists: await publishedVersions(deps.registry, scopes), nowMs: deps.now(), thresholds: deps.config.alarms });
}

/** The alarms a principal sees now, each with its acknowledgement. */
export async function alarmsFor(deps: AlarmDeps, principal: Principal): Promise<AlarmsAnswer> {
  const raised = await raisedFor(deps, principal);
  const acks = await alarmAcks(
    deps.registry,
    raised.map((alarm) => alarm.id),
  );
  const alarms = raised.map((alarm) => ({ ...alarm, acknowledged: acks.get(alarm.id) ?? null }));
  const acknowledged = alarms.filter((alarm) => alarm.acknowledged !== null).length;
  return { alarms, counts: { new: alarms.length - acknowledged, acknowledged } };
}

export const alarmNoteSchema = z
  .string({ message: 'a note is required' })
  .trim()
  .min(1, { message: 'a note is required' })
  .max(maxAlarmNoteLength, { message: `at most ${maxAlarmNoteLength} characters` });

/**
 * Acknowledges one alarm the principal sees now, audited and logged. 404 when it is not (or
 * no longer) raised for them: an alarm that cleared needs no acknowledging, and another unit's
 * is not theirs to touch. 409 when someone acknowledged it first.
 */
export async function acknowledgeFor(deps: AlarmDeps & Pick<RouteDeps, 'logger'>, request: Pick<AuthorizedRequest, 'principal' | 'audit'>, alarmId: string, note: string): Promise<AlarmView> {
  const alarm = (await raisedFor(deps, request.principal)).find((raised) => raised.id === alarmId);
  if (alarm === undefined) throw notFound(`alarm ${alarmId} is not raised now, or not one you may see`);
  const outcome = await acknowledgeAlarm(deps.registry, alarm, actorOf(request.principal), note, deps.now());
  if (!outcome.ok) throw conflict(`alarm ${alarmId} was already acknowledged by ${outcome.ack.by} at ${outcome.ack.at}`);
  request.audit(alarmAcknowledged(alarm, note));
  // The note stays in the audit log: operators type free text, and a log line is no place for it.
  deps.logger.info({ alarm: alarm.id, kind: alarm.kind, actor: outcome.ack.by }, 'alarm.acknowledged');
  return { ...alarm, acknowledged: outcome.ack };
}

const ackBody = z.strictObject({ note: alarmNoteSchema });

export function alarmRoutes(deps: RouteDeps): Route[] {
  const list: ProtectedRoute = {
    path: '/api/alarms',
    access: alarmRoles,
    async handle({ principal }) {
      return { status: 200, json: await alarmsFor(deps, principal) };
    },
  };
  const acknowledge: ProtectedRoute = {
    method: 'POST',
    path: '/api/alarms/{id}/acknowledge',
    access: alarmRoles,
    async handle(request) {
      const { note } = parseBody(request.body, ackBody);
      return { status: 200, json: { alarm: await acknowledgeFor(deps, request, request.params.id ?? '', note) } };
    },
  };
  return [list, acknowledge];
}

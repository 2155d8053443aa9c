import { z } from 'zod';
import { checkpointCodeSchema } from '../../../protocol/checkpointCode.js';
import { decisions, directions, type ScanEvent } from '../../../protocol/event.js';
import { maxEventsPerPage, type CentralStore, type EventPage, type EventQuery, type MemberSummary } from '../../store/centralStore.js';
import { isStoreError } from '../../store/storeError.js';
import { memberViewFor, type MemberView } from '../../access/memberView.js';
import { unitSchema, type Principal } from '../../access/roles.js';
import { credentialRefsOfPeople, hasPeopleFilter } from '../../registry/eventPeople.js';
import { normaliseCitizenId } from '../../../protocol/credentials/typed.js';
import { badRequest, forbidden } from '../http.js';
import { parseQuery } from '../query.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { outOfScope, visibleCheckpointCodes } from './scope.js';

export const defaultEventsLimit = 100;

/** As protocol/event.ts terminalId. */
const terminalIdMessage = 'expected a terminal id of 1 to 64 characters';

const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

/**
 * A time bound: a date (UTC midnight) or a date-time with its zone, passed on as UTC ISO.
 * A zone-less date-time is refused: whose local time would it be?
 */
const instant = z
  .string()
  .superRefine((value, ctx) => {
    if (isoDateTime.safeParse(value).success || isoDate.safeParse(value).success) return;
    // URLSearchParams turns '+' into a space: "…T07:30:00+07:00" arrives as "…T07:30:00 07:00".
    const hint = value.includes(' ') ? " (send '+' as %2B)" : '';
    ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 date or date-time with a zone, e.g. 2025-05-01 or 2025-05-01T07:30:00Z${hint}` });
  })
  .transform((value) => new Date(value).toISOString());

const limit = z
  .string()
  .refine((value) => /^\d{1,4}$/.test(value) && Number(value) >= 1 && Number(value) <= maxEventsPerPage, {
    message: `expected a whole number from 1 to ${maxEventsPerPage}`,
  })
  .transform(Number);

/** Free text typed into a filter box. */
const searchText = z.string().trim().min(1, { message: 'is empty: leave it out' }).max(100, { message: 'at most 100 characters' });

/**
 * `person`: part of a name or phone number. An ID number (9 or 12 digits) is refused here:
 * it would already sit in a URL, in browser history and proxy logs. The console's filter
 * form posts it and turns it into `member` (its keyed ref) before any URL is made.
 */
const personText = searchText.refine((text) => !normaliseCitizenId(text).ok, {
  message: 'looks like an ID number, which never goes in a URL: send it in the body of POST /api/members/search and filter by the member ref it answers (member=REF)',
});

/** A member as the registry names them: the 64 hex digits of their ID number's keyed ref (`ref` in /api/members). */
const memberRef = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, { message: 'expected the 64 hex digits of a member ref, as /api/members gives it' })
  .transform((ref) => ref.toLowerCase());

/** The log's filters, shared by the page (`/api/events`), the download (`/events.csv`) and the live feed. */
const eventFilters = {
  checkpoint: checkpointCodeSchema.optional(),
  terminal: z
    .string()
    .min(1, { message: terminalIdMessage })
    .max(64, { message: terminalIdMessage })
    .optional(),
  from: instant.optional(),
  to: instant.optional(),
  direction: z.enum(directions, { message: `expected one of ${directions.join(', ')}` }).optional(),
  decision: z.enum(decisions, { message: `expected one of ${decisions.join(', ')}` }).optional(),
  // Who scanned, through the registry (resolvedEventFilter): the person's unit, their
  // residence as part of their address, part of their name or phone, or one member.
  unit: unitSchema.optional(),
  residence: searchText.optional(),
  person: personText.optional(),
  member: memberRef.optional(),
};

/** The filters answered from the people registry rather than the events themselves. */
type PeopleFilterKeys = 'unit' | 'residence' | 'person' | 'member';

function fromBeforeTo(query: { readonly from?: string; readonly to?: string }, ctx: z.RefinementCtx): void {
  // Compared as instants: a zone can carry a bound past year 9999, where the ISO text
  // (`+010000-…`) sorts before `9999-…` (found by fast-check).
  if (query.from !== undefined && query.to !== undefined && Date.parse(query.from) >= Date.parse(query.to)) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
  }
}

/** `/api/events`'s filters without the paging: what the whole-log routes (CSV, live) take. */
export const eventFilterSchema = z.strictObject(eventFilters).superRefine(fromBeforeTo);

export type EventFilter = Omit<EventQuery, 'limit' | 'cursor'>;

/** The refs of a filter as a set, made once per filter (the live feed tests every event against it). */
const refSets = new WeakMap<readonly string[], ReadonlySet<string>>();
function refSet(refs: readonly string[]): ReadonlySet<string> {
  let set = refSets.get(refs);
  if (set === undefined) refSets.set(refs, (set = new Set(refs.map((ref) => ref.toLowerCase()))));
  return set;
}

/** Whether `event` is one the store's search would return for `filter` (from inclusive, to exclusive, by the terminal's `ts`): for events not read from the store. */
export function eventMatches(filter: EventFilter, event: ScanEvent): boolean {
  const ts = Date.parse(event.ts);
  return (
    (filter.credentialRefs === undefined || (event.credentialRef !== null && refSet(filter.credentialRefs).has(event.credentialRef))) &&
    (filter.checkpoint === undefined || event.checkpointCode === filter.checkpoint) &&
    (filter.checkpoints === undefined || filter.checkpoints.includes(event.checkpointCode)) &&
    (filter.terminal === undefined || event.terminalId === filter.terminal) &&
    (filter.from === undefined || ts >= Date.parse(filter.from)) &&
    (filter.to === undefined || ts < Date.parse(filter.to)) &&
    (filter.direction === undefined || event.direction === filter.direction) &&
    (filter.decision === undefined || event.decision === filter.decision)
  );
}

export const eventsQuerySchema = z
  .strictObject({
    ...eventFilters,
    limit: limit.default(defaultEventsLimit),
    cursor: z.string().min(1, { message: 'empty: leave it out for the first page' }).optional(),
  })
  .superRefine(fromBeforeTo);

type LoggedEvent = EventPage['events'][number];

/** An event as the in/out log shows it: with the registered person its credential belongs to, as far as the caller may see them. */
export type EventWithMember = LoggedEvent & { readonly member: MemberView | null };

/** The registered people behind a page of events: one registry lookup for the whole page, not one per event. */
export async function membersOf(store: Pick<CentralStore, 'membersByRefs'>, events: readonly LoggedEvent[]): Promise<Map<string, MemberSummary>> {
  const refs = events.flatMap((event) => (event.credentialRef === null ? [] : [event.credentialRef]));
  return refs.length === 0 ? new Map<string, MemberSummary>() : store.membersByRefs(refs);
}

/** What `principal` may see of the person behind `event` (null: nobody registered, or nothing to see). */
export function memberOfEvent(members: ReadonlyMap<string, MemberSummary>, event: LoggedEvent, principal: Principal): MemberView | null {
  const member = event.credentialRef === null ? undefined : members.get(event.credentialRef);
  return member === undefined ? null : memberViewFor(principal, member);
}

async function withMembers(store: CentralStore, page: EventPage, principal: Principal): Promise<{ events: EventWithMember[]; nextCursor: string | null }> {
  const members = await membersOf(store, page.events);
  return { events: page.events.map((event) => ({ ...event, member: memberOfEvent(members, event, principal) })), nextCursor: page.nextCursor };
}

/**
 * The filter narrowed to what the principal may read: a manager's unit's checkpoints, a
 * guard's own (visibleCheckpointCodes). Naming a checkpoint outside them is a 403, not an
 * empty answer, so a typo is not mistaken for a quiet gate.
 */
export async function scopedEventFilter<F extends EventFilter>(store: Pick<CentralStore, 'listCheckpoints'>, principal: Principal, filter: F): Promise<F> {
  const visible = await visibleCheckpointCodes(store, principal);
  if (visible === undefined) return filter;
  if (filter.checkpoint !== undefined && !visible.includes(filter.checkpoint)) throw forbidden(outOfScope(principal, filter.checkpoint));
  return { ...filter, checkpoints: visible };
}

/**
 * What a request asked for, made into what the store answers: scoped as scopedEventFilter
 * says, and the filters by who scanned (unit, residence, person, member) turned into those
 * people's credential refs, once. A person is matched only on what the asker may see of them
 * (broker/access/memberView.ts): a manager finds by name, phone, address or ID only their
 * own unit's members (any unit's by `unit`, which they see on every row); a guard, who sees
 * names but no phone, address or ID, filters by name and unit only.
 */
export async function resolvedEventFilter<A extends EventFilter & { readonly [K in PeopleFilterKeys]?: string | undefined }>(
  deps: Pick<RouteDeps, 'store' | 'registry'>,
  principal: Principal,
  asked: A,
): Promise<Omit<A, PeopleFilterKeys>> {
  const { unit, residence, person, member, ...rest } = asked;
  const scoped = await scopedEventFilter(deps.store, principal, rest);
  const people = { unit, residence, person, memberRef: member === undefined ? undefined : Buffer.from(member, 'hex') };
  if (!hasPeopleFilter(people)) return scoped;
  if (principal.role === 'guard' && (residence !== undefined || member !== undefined)) {
    throw forbidden('a guard filters people by name or unit only: addresses and ID numbers are not shown to guards');
  }
  const reach = { withinUnit: principal.role === 'manager' ? (principal.unit ?? '') : undefined, namesOnly: principal.role === 'guard' };
  return { ...scoped, credentialRefs: await credentialRefsOfPeople(deps.registry, people, reach) };
}

/** The store's refusals of a query as the 400 they are. */
export function storeQueryError(err: unknown): unknown {
  if (isStoreError(err, 'cursor-invalid')) return badRequest(`cursor: ${err.message}`);
  if (isStoreError(err, 'query-invalid')) return badRequest(err.message);
  return err;
}

/**
 * `GET /api/events`: the in/out log, newest first, one page at a time, each event with the
 * person behind it (`member`, null for an unregistered or unreadable credential). A manager
 * reads the log of the unit's checkpoints, a guard of its own; what each sees of a person
 * is broker/access/memberView.ts's to say.
 */
export function eventsRoute(deps: Pick<RouteDeps, 'store' | 'registry'>): ProtectedRoute {
  return {
    path: '/api/events',
    readsQuery: true,
    access: only('admin', 'manager', 'guard'),
    async handle({ query, principal }) {
      const eventQuery: EventQuery = await resolvedEventFilter(deps, principal, parseQuery(query, eventsQuerySchema));
      try {
        const page = await deps.store.searchEvents(eventQuery);
        return { status: 200, json: await withMembers(deps.store, page, principal) };
      } catch (err) {
        throw storeQueryError(err);
      }
    },
  };
}

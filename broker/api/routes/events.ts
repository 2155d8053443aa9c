import { z } from 'zod';
import { checkpointCodeSchema } from '../../../protocol/checkpointCode.js';
import { decisions, directions } from '../../../protocol/event.js';
import { maxEventsPerPage, type CentralStore, type EventPage, type EventQuery, type MemberSummary } from '../../store/centralStore.js';
import { isStoreError } from '../../store/storeError.js';
import { memberViewFor, type MemberView } from '../../access/memberView.js';
import type { Principal } from '../../access/roles.js';
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

export const eventsQuerySchema = z
  .strictObject({
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
    limit: limit.default(defaultEventsLimit),
    cursor: z.string().min(1, { message: 'empty: leave it out for the first page' }).optional(),
  })
  .superRefine((query, ctx) => {
    // Compared as instants: a zone can carry a bound past year 9999, where the ISO text
    // (`+010000-…`) sorts before `9999-…` (found by fast-check).
    if (query.from !== undefined && query.to !== undefined && Date.parse(query.from) >= Date.parse(query.to)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
    }
  });

type LoggedEvent = EventPage['events'][number];

/** An event as the in/out log shows it: with the registered person its credential belongs to, as far as the caller may see them. */
export type EventWithMember = LoggedEvent & { readonly member: MemberView | null };

/** One registry lookup for the whole page, not one per event. */
async function withMembers(store: CentralStore, page: EventPage, principal: Principal): Promise<{ events: EventWithMember[]; nextCursor: string | null }> {
  const refs = page.events.flatMap((event) => (event.credentialRef === null ? [] : [event.credentialRef]));
  const members = refs.length === 0 ? new Map<string, MemberSummary>() : await store.membersByRefs(refs);
  return {
    events: page.events.map((event) => {
      const member = event.credentialRef === null ? undefined : members.get(event.credentialRef);
      return { ...event, member: member === undefined ? null : memberViewFor(principal, member) };
    }),
    nextCursor: page.nextCursor,
  };
}

/**
 * `GET /api/events`: the in/out log, newest first, one page at a time, each event with the
 * person behind it (`member`, null for an unregistered or unreadable credential). A manager
 * reads the log of the unit's checkpoints, a guard of its own; what each sees of a person
 * is broker/access/memberView.ts's to say.
 */
export function eventsRoute(deps: Pick<RouteDeps, 'store'>): ProtectedRoute {
  return {
    path: '/api/events',
    readsQuery: true,
    access: only('admin', 'manager', 'guard'),
    async handle({ query, principal }) {
      const eventQuery: EventQuery = parseQuery(query, eventsQuerySchema);
      const visible = await visibleCheckpointCodes(deps.store, principal);
      if (visible !== undefined && eventQuery.checkpoint !== undefined && !visible.includes(eventQuery.checkpoint)) {
        throw forbidden(outOfScope(principal, eventQuery.checkpoint));
      }
      try {
        const page = await deps.store.searchEvents(visible === undefined ? eventQuery : { ...eventQuery, checkpoints: visible });
        return { status: 200, json: await withMembers(deps.store, page, principal) };
      } catch (err) {
        if (isStoreError(err, 'cursor-invalid')) throw badRequest(`cursor: ${err.message}`);
        if (isStoreError(err, 'query-invalid')) throw badRequest(err.message);
        throw err;
      }
    },
  };
}

import { z } from 'zod';
import { checkpointCodeSchema } from '../../../protocol/checkpointCode.js';
import { decisions, directions } from '../../../protocol/event.js';
import { maxEventsPerPage, type CentralStore, type EventPage, type EventQuery, type MemberSummary } from '../../store/centralStore.js';
import { isStoreError } from '../../store/storeError.js';
import { badRequest } from '../http.js';
import { parseQuery } from '../query.js';
import type { Route } from '../router.js';

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

/** An event as the in/out log shows it: with the registered person its credential belongs to. */
export type EventWithMember = LoggedEvent & { readonly member: MemberSummary | null };

/** One registry lookup for the whole page, not one per event. */
async function withMembers(store: CentralStore, page: EventPage): Promise<{ events: EventWithMember[]; nextCursor: string | null }> {
  const refs = page.events.flatMap((event) => (event.credentialRef === null ? [] : [event.credentialRef]));
  const members = refs.length === 0 ? new Map<string, MemberSummary>() : await store.membersByRefs(refs);
  return {
    events: page.events.map((event) => ({ ...event, member: event.credentialRef === null ? null : (members.get(event.credentialRef) ?? null) })),
    nextCursor: page.nextCursor,
  };
}

/**
 * `GET /api/events`: the in/out log, newest first, one page at a time, each event with the
 * person behind it (`member`, null for an unregistered or unreadable credential).
 */
export function eventsRoute(deps: { readonly store: CentralStore }): Route {
  return {
    path: '/api/events',
    async handle({ query }) {
      const eventQuery: EventQuery = parseQuery(query, eventsQuerySchema);
      try {
        return { status: 200, json: await withMembers(deps.store, await deps.store.searchEvents(eventQuery)) };
      } catch (err) {
        if (isStoreError(err, 'cursor-invalid')) throw badRequest(`cursor: ${err.message}`);
        if (isStoreError(err, 'query-invalid')) throw badRequest(err.message);
        throw err;
      }
    },
  };
}

import { Readable } from 'node:stream';
import type { MemberView } from '../../access/memberView.js';
import type { Principal } from '../../access/roles.js';
import { maxEventsPerPage, type CentralStore, type EventPage, type MemberSummary } from '../../store/centralStore.js';
import { csvCell } from '../../../protocol/csvCell.js';
import { parseQuery } from '../query.js';
import { Utf8Lines } from '../utf8Lines.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { eventFilterSchema, memberOfEvent, membersOf, resolvedEventFilter, storeQueryError, type EventFilter } from './events.js';

type LoggedEvent = EventPage['events'][number];

/** Excel reads a CSV as the machine's ANSI code page unless the file starts with a UTF-8 byte order mark. */
const bom = '\uFEFF';

/** Sites run on Vietnam's time (UTC+7 all year: no daylight saving since 1975), which is what an operator reads on the gate's clock. */
const vietnamOffsetMs = 7 * 3_600_000;

/** `2025-05-31 19:00:00`: a form Excel and LibreOffice take as a date-time on their own. */
export function vietnamTime(iso: string): string {
  // Once per exported row: an event's `ts` is `YYYY-MM-DDTHH:MM:SS[.fff]Z` (scanEventSchema),
  // so adding 7 hours is changing two digits, and the date only when it crosses midnight.
  // Parsing a Date per row cost more than the rest of the row together (measured).
  if (iso.length >= 20 && iso[10] === 'T' && iso[13] === ':' && iso[16] === ':' && (iso[19] === 'Z' || iso[19] === '.')) {
    const hour = (iso.charCodeAt(11) - 48) * 10 + (iso.charCodeAt(12) - 48) + 7;
    if (hour >= 7 && hour < 24) return `${iso.slice(0, 10)} ${hour < 10 ? '0' : ''}${hour}${iso.slice(13, 19)}`;
    if (hour >= 24 && hour < 31) return `${nextDay(iso.slice(0, 10))} 0${hour - 24}${iso.slice(13, 19)}`;
  }
  const local = new Date(Date.parse(iso) + vietnamOffsetMs).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 19)}`;
}

/** The day after `YYYY-MM-DD`, remembering the last answer: rows come in runs of the same day. */
let lastDay = { date: '', next: '' };
function nextDay(date: string): string {
  if (lastDay.date !== date) lastDay = { date, next: new Date(Date.parse(date) + 86_400_000).toISOString().slice(0, 10) };
  return lastDay.next;
}

/**
 * A cell a spreadsheet would take as a formula (`=`, `+`, `-`, `@`, or a tab or CR before
 * one) gets a leading apostrophe: a member's name comes from an imported file and must not
 * run as `=HYPERLINK(…)` on the machine of whoever opens the export (OWASP "CSV injection").
 */
export function spreadsheetText(value: string): string {
  return csvCell(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}

export const eventsCsvColumns = [
  'time_utc',
  'time_vietnam',
  'checkpoint',
  'checkpoint_name',
  'terminal',
  'lane',
  'direction',
  'decision',
  'reason',
  'credential',
  'member_name',
  'member_unit',
  'member_id',
  'member_status',
  'passback',
  'passed',
  'clock_trusted',
  'received_at',
  'event_id',
] as const;

/** The member columns for what the caller may see of a person: never more than the JSON log shows them. */
function memberCells(member: MemberView | null): string {
  if (member === null) return ',,,';
  if ('otherUnit' in member) return `,${spreadsheetText(member.unit)},${member.idMasked},`;
  return [spreadsheetText(member.name), spreadsheetText(member.unit), member.idMasked, member.status].join(',');
}

/**
 * One row. `place` (checkpoint, its name, terminal, lane) and `member` arrive as cells
 * already, escaped once per page for each place and person rather than once per row.
 */
function csvLine(event: LoggedEvent, place: string, member: string): string {
  const passed = event.passed === null ? '' : String(event.passed);
  return `${event.ts},${vietnamTime(event.ts)},${place},${event.direction},${event.decision},${event.reason},${event.credentialType},${member},${event.passback},${passed},${event.clockTrusted},${event.receivedAt},${event.id}\r\n`;
}

/**
 * The whole filtered log, newest first, one store page at a time (keyset, as `/api/events`
 * pages): a page is formatted only when the previous one has been taken by the socket
 * (Readable.from pulls on demand), so a million rows never sit in memory and a slow
 * download holds nothing but its cursor and one page read ahead. Each page is its own short
 * query: a download never keeps the store's connection busy between pages. The next page
 * is asked for before this one is formatted, so the store's thread reads it meanwhile.
 */
async function* csvChunks(store: CentralStore, principal: Principal, filter: EventFilter): AsyncGenerator<string | Buffer> {
  const checkpointNames = new Map((await store.listCheckpoints()).map((checkpoint) => [checkpoint.code, spreadsheetText(checkpoint.name)]));
  yield `${bom}${eventsCsvColumns.join(',')}\r\n`;
  type PageWithMembers = { readonly page: EventPage; readonly members: Map<string, MemberSummary> };
  const pageWithMembers = async (cursor: string | undefined): Promise<PageWithMembers> => {
    const page = await store.searchEvents({ ...filter, limit: maxEventsPerPage, ...(cursor === undefined ? {} : { cursor }) });
    return { page, members: await membersOf(store, page.events) };
  };
  const lines = new Utf8Lines();
  let next: Promise<PageWithMembers> | null = pageWithMembers(undefined);
  while (next !== null) {
    const { page, members }: PageWithMembers = await next;
    next = page.nextCursor === null ? null : pageWithMembers(page.nextCursor);
    // A download the client dropped stops pulling: the page read ahead is then never awaited.
    next?.catch(() => undefined);
    const memberText = new Map<string | null, string>();
    const placeText = new Map<string, string>();
    for (const event of page.events) {
      let member = memberText.get(event.credentialRef);
      if (member === undefined) memberText.set(event.credentialRef, (member = memberCells(memberOfEvent(members, event, principal))));
      const placeKey = `${event.checkpointCode}\n${event.terminalId}\n${event.lane}`;
      let place = placeText.get(placeKey);
      if (place === undefined) {
        place = `${event.checkpointCode},${checkpointNames.get(event.checkpointCode) ?? ''},${spreadsheetText(event.terminalId)},${spreadsheetText(event.lane)}`;
        placeText.set(placeKey, place);
      }
      lines.add(csvLine(event, place, member));
    }
    if (page.events.length > 0) yield lines.take();
  }
}

/** `qrgate-events-20250531.csv`, dated by the Vietnam calendar day of the download. */
export function eventsCsvFileName(nowMs: number): string {
  return `qrgate-events-${vietnamTime(new Date(nowMs).toISOString()).slice(0, 10).replaceAll('-', '')}.csv`;
}

/**
 * `GET /events.csv`: the in/out log as a spreadsheet, with `/api/events`'s filters and
 * scope (a manager's unit's checkpoints, a guard's own) and its view of each person, minus
 * the paging: everything that matches, streamed. UTF-8 with a BOM so Excel shows
 * "Nguyễn Thị Ánh" as written; RFC 4180 (CRLF, quotes doubled). Bad filters and scope are
 * refused (400, 403) before the first byte; a store failure mid-way cuts the download off.
 */
export function eventsCsvRoute(deps: Pick<RouteDeps, 'store' | 'registry' | 'logger' | 'now'>): ProtectedRoute {
  const logger = deps.logger.child({ route: 'events.csv' });
  return {
    path: '/events.csv',
    readsQuery: true,
    access: only('admin', 'manager', 'guard'),
    async handle({ query, principal }) {
      const filter: EventFilter = await resolvedEventFilter(deps, principal, parseQuery(query, eventFilterSchema));
      const chunks = csvChunks(deps.store, principal, filter);
      async function* logged(): AsyncGenerator<string | Buffer> {
        try {
          yield* chunks;
        } catch (err) {
          // Mid-stream there is no status left to change: the client sees a cut-off download.
          logger.warn({ err: storeQueryError(err) }, 'api.events-csv-aborted');
          throw err;
        }
      }
      // objectMode off: the buffer ahead of the socket is counted in bytes (16 KiB), so at most one page waits.
      const stream = Readable.from(logged(), { objectMode: false });
      return {
        status: 200,
        stream,
        contentType: 'text/csv; charset=utf-8',
        headers: { 'content-disposition': `attachment; filename="${eventsCsvFileName(deps.now())}"` },
      };
    },
  };
}

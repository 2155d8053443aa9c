import { formatDateTime, type SiteLang } from './siteTime.js';

/** What a row of the in/out log needs of an event, as /api/events and its live feed send it. */
export interface EventRowInput {
  readonly id: string;
  readonly ts: string;
  readonly checkpointCode: string;
  readonly terminalId: string;
  readonly lane: string;
  readonly direction: string;
  readonly decision: string;
  readonly reason: string;
  readonly answeredBy?: string;
  readonly member:
    | null
    | { readonly otherUnit: true; readonly unit: string; readonly idMasked: string }
    | { readonly name: string; readonly unit: string; readonly idMasked: string };
}

/** The words a row uses, by key (`direction.in`, `decision.granted`, `reason.denied`, `person.none`, `person.otherUnit`). */
export type EventWords = Readonly<Record<string, string>>;

export interface EventRow {
  readonly id: string;
  readonly decision: string;
  readonly cells: readonly string[];
}

/**
 * One row of the in/out log as text cells: the server puts them in the page, the browser's
 * live feed in the table, from this one function, so both read the same.
 */
export function eventRow(event: EventRowInput, words: EventWords, lang: SiteLang, checkpointNames: Readonly<Record<string, string>>): EventRow {
  const word = (key: string) => words[key] ?? key;
  const person =
    event.member === null
      ? word('person.none')
      : 'otherUnit' in event.member
        ? `${word('person.otherUnit')} ${event.member.unit} · ${event.member.idMasked}`
        : `${event.member.name} · ${event.member.unit} · ${event.member.idMasked}`;
  const reason = word(`reason.${event.reason}`) + (event.answeredBy === undefined ? '' : ` (${event.answeredBy})`);
  return {
    id: event.id,
    decision: event.decision,
    cells: [
      formatDateTime(lang, event.ts),
      checkpointNames[event.checkpointCode] ?? event.checkpointCode,
      `${event.terminalId} · ${event.lane}`,
      word(`direction.${event.direction}`),
      word(`decision.${event.decision}`),
      reason,
      person,
    ],
  };
}

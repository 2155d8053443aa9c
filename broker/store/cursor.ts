import { StoreError } from './storeError.js';

/**
 * Keyset pagination cursor for searchEvents: the (ts, id) of the last event on a page.
 * Opaque to clients (base64url), versioned so the format can change without misreading
 * old cursors. Shared by every store so a cursor survives a switch of backend.
 */

export interface EventCursor {
  /** Terminal timestamp, ms since the epoch (negative for a clock before 1970). */
  readonly tsMs: number;
  readonly id: string;
}

const version = '1';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Far above any real cursor (about 60 characters); keeps a pasted blob out of the decoder. */
const maxCursorLength = 128;

export function encodeCursor(cursor: EventCursor): string {
  return Buffer.from(`${version}:${cursor.tsMs}:${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(text: string): EventCursor {
  // Buffer.from(…, 'base64url') skips characters it does not know instead of failing.
  if (text.length === 0 || text.length > maxCursorLength || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw invalid('not a cursor from a previous page');
  }
  const [v, ts, id, ...rest] = Buffer.from(text, 'base64url').toString('utf8').split(':');
  if (v !== version || rest.length > 0 || ts === undefined || id === undefined) throw invalid('not a cursor from a previous page');
  if (!/^-?\d{1,16}$/.test(ts) || !Number.isSafeInteger(Number(ts))) throw invalid('bad timestamp');
  if (!uuidPattern.test(id)) throw invalid('bad event id');
  return { tsMs: Number(ts), id };
}

function invalid(problem: string): StoreError {
  return new StoreError('cursor-invalid', `malformed cursor: ${problem}`);
}

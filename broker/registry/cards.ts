import { randomBytes } from 'node:crypto';
import { refToHex, type RefHasher } from '../../protocol/credentialRef.js';
import { generateCardId, parseCardId } from '../../protocol/credentials/card.js';
import { isUniqueViolation, placeholders, type RegistryDb, type SqlValue } from '../store/sql/registryDb.js';
import { msToIso } from '../store/time.js';

/**
 * qrgate cards in the registry (schema migration 2): issuing, reissuing and reading the
 * live cards to print. A member holds at most one live card (`revoked_at_ms` NULL); a
 * reissue revokes it in the same transaction as the new card is stored, so a published
 * list never holds both or neither.
 */

/** Which members a cards command works on. `idRef` is the citizen ref of an ID number, never the number. */
export type CardSelection =
  | { readonly by: 'member'; readonly idRef: Buffer }
  /** With `scope`: that unit's members in that scope (a manager naming a scope). */
  | { readonly by: 'unit'; readonly unit: string; readonly scope?: string | undefined }
  | { readonly by: 'scope'; readonly scope: string }
  | { readonly by: 'all' };

export type CardsErrorCode = 'unknown-member' | 'no-members' | 'no-cards' | 'card-invalid' | 'card-unknown' | 'card-revoked' | 'concurrent-issue';

export class CardsError extends Error {
  constructor(
    readonly code: CardsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CardsError';
  }
}

function memberFilter(selection: CardSelection): { readonly where: string; readonly params: readonly SqlValue[] } {
  switch (selection.by) {
    case 'member':
      return { where: 'm.id_ref = ?', params: [selection.idRef] };
    case 'unit':
      return selection.scope === undefined
        ? { where: 'm.unit = ?', params: [selection.unit] }
        : { where: 'm.unit = ? AND m.scope = ?', params: [selection.unit, selection.scope] };
    case 'scope':
      return { where: 'm.scope = ?', params: [selection.scope] };
    case 'all':
      return { where: '1 = 1', params: [] };
  }
}

/** Words for an error message; an ID number is described, never repeated. */
function describeSelection(selection: CardSelection): string {
  switch (selection.by) {
    case 'member':
      return 'for that member';
    case 'unit':
      return `in unit "${selection.unit}"${selection.scope === undefined ? '' : ` and scope "${selection.scope}"`}`;
    case 'scope':
      return `in scope "${selection.scope}"`;
    case 'all':
      return 'in the registry';
  }
}

function noMembers(selection: CardSelection): CardsError {
  return selection.by === 'member'
    ? new CardsError('unknown-member', 'no member is registered under that ID number (add people with `qrgate members import`)')
    : new CardsError('no-members', `no member ${describeSelection(selection)}: check the spelling (units and scopes are matched exactly)`);
}

export interface IssueCardsOptions {
  /** Give members who hold a live card a new one and revoke the old; otherwise they are skipped. */
  readonly reissue: boolean;
}

export interface IssueCardsDeps {
  readonly hasher: RefHasher;
  readonly now?: () => number;
  readonly generateId?: () => string;
}

export interface IssueCardsResult {
  /** Members who had no live card and got one. */
  readonly issued: number;
  /** Members whose live card was revoked and replaced (`reissue` only). */
  readonly reissued: number;
  /** Members left alone because they hold a live card (without `reissue`). */
  readonly skipped: number;
  /** For a one-member selection: that member's live card after the command. */
  readonly cardId?: string;
}

/**
 * Card ids drawn from one randomBytes call per 4 KiB (256 cards) instead of one per card:
 * the per-call cost was a sixth of issuing 100k cards. Same CSPRNG, same 128 bits per id.
 */
export function pooledCardIds(blockBytes = 4096): () => string {
  let block = Buffer.alloc(0);
  let offset = 0;
  const random = (size: number) => {
    if (offset + size > block.length) {
      block = randomBytes(Math.max(blockBytes, size));
      offset = 0;
    }
    offset += size;
    return block.subarray(offset - size, offset);
  };
  return () => generateCardId(random);
}

interface SelectedMember {
  readonly memberId: number;
  readonly liveCardId: string | null;
}

/** Rows per multi-row INSERT or IN list: well under both engines' parameter limits. */
const rowsPerStatement = 1000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Issues cards to the selected members in one transaction: the selection is read and
 * written together, so a failure halfway leaves every member as they were. Two issues at
 * once cannot give a member two live cards: SQLite's transaction holds the write lock, and
 * on both engines the `cards_one_live` index refuses a second one ('concurrent-issue', run
 * it again). Old cards are revoked and new ones stored a thousand rows per statement
 * (PostgreSQL is a network hop away; 100k cards are 200 statements, not 200,000).
 */
export async function issueCards(db: RegistryDb, deps: IssueCardsDeps, selection: CardSelection, options: IssueCardsOptions): Promise<IssueCardsResult> {
  const { hasher, now = Date.now, generateId = pooledCardIds() } = deps;
  const { where, params } = memberFilter(selection);
  try {
    return await db.transaction(async (tx): Promise<IssueCardsResult> => {
      const members = await tx.all<SelectedMember>(
        `SELECT m.member_id AS "memberId",
          (SELECT c.card_id FROM cards c WHERE c.member_id = m.member_id AND c.revoked_at_ms IS NULL LIMIT 1) AS "liveCardId"
        FROM members m WHERE ${where} ORDER BY m.member_id`,
        params,
      );
      if (members.length === 0) throw noMembers(selection);
      const atMs = now();
      const revoked: number[] = [];
      const cards: (readonly [Buffer, string, number])[] = [];
      let skipped = 0;
      let lastCardId: string | null = null;
      for (const member of members) {
        if (member.liveCardId !== null && !options.reissue) {
          skipped++;
          lastCardId = member.liveCardId;
          continue;
        }
        if (member.liveCardId !== null) revoked.push(member.memberId);
        const cardId = generateId();
        cards.push([hasher('card', cardId), cardId, member.memberId]);
        lastCardId = cardId;
      }
      // Revoked first: the new live card would otherwise meet the old one in cards_one_live.
      for (const chunk of chunks(revoked, rowsPerStatement)) {
        await tx.run(`UPDATE cards SET revoked_at_ms = ? WHERE revoked_at_ms IS NULL AND member_id IN (${placeholders(chunk.length)})`, [atMs, ...chunk]);
      }
      for (const chunk of chunks(cards, rowsPerStatement)) {
        await tx.run(
          `INSERT INTO cards (card_ref, card_id, member_id, issued_at_ms, revoked_at_ms) VALUES ${chunk.map(() => '(?, ?, ?, ?, NULL)').join(', ')}`,
          chunk.flatMap(([cardRef, cardId, memberId]) => [cardRef, cardId, memberId, atMs]),
        );
      }
      const reissued = revoked.length;
      return { issued: cards.length - reissued, reissued, skipped, ...(selection.by === 'member' && lastCardId !== null ? { cardId: lastCardId } : {}) };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new CardsError('concurrent-issue', `another card issue ${describeSelection(selection)} ran at the same time; nothing was changed by this one: run it again`);
    throw err;
  }
}

/** A live card with what is printed on it. */
export interface LiveCard {
  readonly cardId: string;
  readonly name: string;
  readonly unit: string;
  readonly scope: string;
}

/** Live cards read per statement while a PDF is painted: a few pages of a card printer's work. */
const liveCardsPerPage = 500;

/**
 * The live cards of the selection, ordered by unit then name (the order they are handed
 * out in), read in keyset pages as they are consumed, so 100k cards are never all in memory
 * at once and no statement or transaction stays open while a slow client downloads the PDF
 * (the connection is the API's shared one). A card reissued while the pages are read may
 * be printed in its old or new form, as a print started a moment earlier or later would.
 * Refuses an empty selection up front, so a command fails before it creates its output file.
 */
export async function openLiveCards(db: RegistryDb, selection: CardSelection): Promise<{ readonly count: number; readonly cards: AsyncIterableIterator<LiveCard> }> {
  const { where, params } = memberFilter(selection);
  const from = 'FROM cards c JOIN members m ON m.member_id = c.member_id WHERE c.revoked_at_ms IS NULL AND ' + where;
  const count = Number((await db.value<number | string>(`SELECT count(*) ${from}`, params)) ?? 0);
  if (count === 0) {
    const known = selection.by !== 'member' || (await db.value('SELECT 1 FROM members WHERE id_ref = ?', [selection.idRef])) !== undefined;
    throw known
      ? new CardsError('no-cards', `no live card ${describeSelection(selection)}: issue them first with \`qrgate cards issue\``)
      : noMembers(selection);
  }
  const select = `SELECT c.card_id AS "cardId", m.name AS name, m.unit AS unit, m.scope AS scope ${from}`;
  const order = 'ORDER BY m.unit, m.name, c.card_id LIMIT ?';
  async function* pages(): AsyncGenerator<LiveCard> {
    let page = await db.all<LiveCard>(`${select} ${order}`, [...params, liveCardsPerPage]);
    while (page.length > 0) {
      yield* page;
      if (page.length < liveCardsPerPage) return;
      const last = page[page.length - 1]!;
      page = await db.all<LiveCard>(`${select} AND (m.unit, m.name, c.card_id) > (CAST(? AS text), CAST(? AS text), CAST(? AS text)) ${order}`, [
        ...params,
        last.unit,
        last.name,
        last.cardId,
        liveCardsPerPage,
      ]);
    }
  }
  return { count, cards: pages() };
}

/** A card found by its number, and whose it is (for the caller's scope check). */
export interface CardOwner {
  readonly cardId: string;
  /** The holder's citizen ref, hex (findMember, GET /api/members/{ref}). */
  readonly memberRef: string;
  readonly idMasked: string;
  readonly unit: string;
  readonly revokedAt: string | null;
}

/**
 * The card id from its printed number, as an operator types it back: groups of four or not,
 * any case (parseCardId also forgives Crockford's O/I/L look-alikes). The message never
 * repeats the number: it is a working credential.
 */
export function cardIdFromNumber(number: string): string {
  const parsed = parseCardId(number.replace(/[\s-]/g, ''));
  if (!parsed.ok) throw new CardsError('card-invalid', `card number: ${parsed.detail.replace(/^card id/, 'it')}`);
  return parsed.id;
}

/** The last four characters of a card id: enough for a person to tell cards apart, useless to forge one. */
export function cardTail(cardId: string): string {
  return cardId.slice(-4);
}

export async function findCard(db: RegistryDb, cardId: string): Promise<CardOwner> {
  const row = await db.get<{ cardId: string; idRef: Buffer; idMasked: string; unit: string; revokedAtMs: number | null }>(
    `SELECT c.card_id AS "cardId", m.id_ref AS "idRef", m.id_masked AS "idMasked", m.unit, c.revoked_at_ms AS "revokedAtMs"
     FROM cards c JOIN members m ON m.member_id = c.member_id WHERE c.card_id = ?`,
    [cardId],
  );
  if (row === undefined) throw new CardsError('card-unknown', `no card ending in ${cardTail(cardId)} was issued`);
  return { cardId: row.cardId, memberRef: refToHex(row.idRef), idMasked: row.idMasked, unit: row.unit, revokedAt: row.revokedAtMs === null ? null : msToIso(row.revokedAtMs) };
}

export interface RevokeCardResult {
  /** Last four characters of the card id. */
  readonly cardTail: string;
  readonly idMasked: string;
  readonly unit: string;
  readonly revokedAt: string;
}

/**
 * Revokes one card now (a lost or stolen card). The registry refuses it at once; terminals
 * learn it with the next published list of the member's scope, so publish soon after. The
 * member keeps no live card until `issueCards` gives a new one.
 */
export async function revokeCard(db: RegistryDb, cardId: string, nowMs: number): Promise<RevokeCardResult> {
  return db.transaction(async (tx): Promise<RevokeCardResult> => {
    const card = await findCard(tx, cardId);
    // `revoked_at_ms IS NULL` in the update itself: on PostgreSQL two revokes at once both
    // read it live, and only the one that changed the row may say it revoked it.
    const changed = card.revokedAt === null ? await tx.run('UPDATE cards SET revoked_at_ms = ? WHERE card_id = ? AND revoked_at_ms IS NULL', [nowMs, cardId]) : 0;
    if (changed === 0) {
      const at = card.revokedAt ?? (await findCard(tx, cardId)).revokedAt;
      throw new CardsError('card-revoked', `card ending in ${cardTail(cardId)} was already revoked at ${at}`);
    }
    return { cardTail: cardTail(cardId), idMasked: card.idMasked, unit: card.unit, revokedAt: msToIso(nowMs) };
  });
}

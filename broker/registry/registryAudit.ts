import type { AuditChange } from '../access/audit.js';
import type { PublishListResult } from '../lists/publish.js';
import type { CardSelection, IssueCardsResult, RevokeCardResult } from './cards.js';
import type { AddResult, RemoveResult, UpdateResult } from './members.js';
import type { ImportResult } from './membersImport.js';

/**
 * The audit entries of the registry's changes, written once so `qrgate members …` and
 * `POST /api/members…` log the same action the same way. Members appear by masked ID and
 * cards by their last four characters: never a raw ID number nor a whole card number.
 */

export function memberAdded(result: AddResult): AuditChange {
  return { action: 'member.add', target: result.idMasked, details: { unit: result.unit, scope: result.scope, status: result.status } };
}

/** `member.update` for details, `member.set-status` for the status alone. */
export function memberUpdated(result: UpdateResult, action: 'member.update' | 'member.set-status'): AuditChange {
  return { action, target: result.idMasked, details: { changed: result.changed } };
}

export function memberRemoved(result: RemoveResult): AuditChange {
  return { action: 'member.remove', target: result.idMasked, details: { cards: result.cards } };
}

/** Target: the importing manager's unit, '' for a whole-registry import. */
export function membersImported(result: ImportResult, unit: string | null): AuditChange {
  return { action: 'member.import', target: unit ?? '', details: { rows: result.rows, added: result.added, updated: result.updated, unchanged: result.unchanged } };
}

/** `idMasked`: the member's, for a one-member selection (the selection holds only the ref). */
export function cardsIssued(selection: CardSelection, result: IssueCardsResult, idMasked?: string): AuditChange {
  const target =
    selection.by === 'member' ? (idMasked ?? '') : selection.by === 'unit' ? selection.unit : selection.by === 'scope' ? selection.scope : 'all';
  const scope = selection.by === 'unit' && selection.scope !== undefined ? { scope: selection.scope } : {};
  return { action: 'card.issue', target, details: { by: selection.by, ...scope, issued: result.issued, reissued: result.reissued, skipped: result.skipped } };
}

/** `member.photo` for a new or replaced photo, `member.photo-remove`; the photo itself never goes into the log. */
export function memberPhotoChanged(idMasked: string, action: 'member.photo' | 'member.photo-remove', size?: { width: number; height: number }): AuditChange {
  return { action, target: idMasked, details: size === undefined ? {} : { width: size.width, height: size.height } };
}

export function cardRevoked(result: RevokeCardResult): AuditChange {
  return { action: 'card.revoke', target: result.cardTail, details: { member: result.idMasked, unit: result.unit } };
}

export function listPublished(result: PublishListResult): AuditChange {
  return {
    action: 'list.publish',
    target: result.scope,
    details: { version: result.version, count: result.count, added: result.added, changed: result.changed, removed: result.removed, expiresAt: result.expiresAt },
  };
}

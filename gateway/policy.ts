import type { Direction, Reason } from '../protocol/event.js';
import type { CachedEntry, EntryStatus } from './listCache.js';

/**
 * The decision policy: a pure function of what the lane is, what the lists say and what
 * the terminal remembers. No IO, no clock of its own, so every rule is tested in isolation.
 */

export interface PolicySettings {
  readonly onStaleList: 'deny' | 'manual' | 'allow-known';
  readonly antiPassback: 'off' | 'soft' | 'hard';
}

export interface LaneTraits {
  readonly direction: Direction;
  readonly attended: boolean;
  readonly confirm: 'auto' | 'manual';
}

/** `none`: no list for the terminal's scopes; `stale`: a list is past its expiry. */
export type ListState = 'none' | 'fresh' | 'stale';

export interface Situation {
  readonly entries: readonly CachedEntry[];
  readonly listState: ListState;
  readonly nowMs: number;
  /** Direction of this credential's last passage at this terminal, for anti-passback. */
  readonly lastDirection: Direction | null;
}

export type Verdict =
  | { readonly outcome: 'grant'; readonly reason: 'allowed' | 'allowed-stale'; readonly passback: boolean }
  | { readonly outcome: 'ask-operator'; readonly passback: boolean }
  | { readonly outcome: 'refuse'; readonly reason: Reason; readonly passback: boolean };

// A revoked card and a denied person are both refused; revoked is the more telling answer.
const restrictiveness: Record<EntryStatus, number> = { revoked: 4, deny: 3, check: 2, allow: 1 };

function outsideWindow(entry: CachedEntry, nowMs: number): boolean {
  return (entry.validFromMs !== null && nowMs < entry.validFromMs) || (entry.validUntilMs !== null && nowMs >= entry.validUntilMs);
}

/**
 * A person on several lists is judged by the most restrictive entry: the strictest status,
 * and of two with the same status the one that does not hold now (an allow that expired on
 * one list is not rescued by an allow on another). Between equals, the first scope by name,
 * so the verdict and the list version it cites never depend on the order lists arrive in.
 */
export function strictestEntry(entries: readonly CachedEntry[], nowMs: number): CachedEntry | null {
  let strictest: CachedEntry | null = null;
  let strictestRank = 0;
  for (const entry of entries) {
    const rank = restrictiveness[entry.status] * 2 + (outsideWindow(entry, nowMs) ? 1 : 0);
    if (!strictest || rank > strictestRank || (rank === strictestRank && entry.scope < strictest.scope)) {
      strictest = entry;
      strictestRank = rank;
    }
  }
  return strictest;
}

function refuse(reason: Reason, passback = false): Verdict {
  return { outcome: 'refuse', reason, passback };
}

export function decide(lane: LaneTraits, settings: PolicySettings, situation: Situation): Verdict {
  if (situation.listState === 'none') return refuse('no-list');
  const stale = situation.listState === 'stale';
  if (stale && settings.onStaleList === 'deny') return refuse('stale-list');

  const entry = strictestEntry(situation.entries, situation.nowMs);
  if (!entry) return refuse('unknown');
  if (entry.status === 'deny') return refuse('denied');
  // Before any window or list-age rule: a lost card in someone else's hand is the news.
  if (entry.status === 'revoked') return refuse('revoked');
  if (entry.validFromMs !== null && situation.nowMs < entry.validFromMs) return refuse('not-yet-valid');
  if (entry.validUntilMs !== null && situation.nowMs >= entry.validUntilMs) return refuse('expired');

  const repeated = settings.antiPassback !== 'off' && situation.lastDirection === lane.direction;
  if (repeated && settings.antiPassback === 'hard') return refuse('passback', true);

  // Everything below would let the person through; decide who has to say so.
  const needsOperator = entry.status === 'check' || lane.confirm === 'manual' || (stale && settings.onStaleList === 'manual');
  if (needsOperator) {
    if (lane.attended) return { outcome: 'ask-operator', passback: repeated };
    return refuse(entry.status === 'check' ? 'check-unattended' : 'stale-list', repeated);
  }
  return { outcome: 'grant', reason: stale ? 'allowed-stale' : 'allowed', passback: repeated };
}

import type { Logger } from '../../protocol/logger.js';
import { pendingMessageSchema, type PendingHeld } from '../../protocol/messages.js';
import type { CounterLike } from '../metricTypes.js';
import type { TopicIdentity } from '../ingestion/validate.js';

/** A scan waiting for an operator at a terminal, as the guard screen lists it. */
export interface PendingScan extends Omit<PendingHeld, 'v' | 'state'> {
  readonly checkpointCode: string;
  readonly terminalId: string;
}

/** How a pending scan ended, as far as this central knows. */
export interface PendingOutcome {
  readonly checkpointCode: string;
  readonly decision: 'granted' | 'refused' | 'duplicate';
  readonly reason: string;
  /** Who answered at the central; null for the gate's own buttons and timeouts. */
  readonly answeredBy: string | null;
}

export type Claim =
  | { readonly ok: true; readonly scan: PendingScan }
  | { readonly ok: false; readonly why: 'unknown' }
  | { readonly ok: false; readonly why: 'resolved'; readonly checkpointCode: string; readonly outcome: PendingOutcome };

export interface PendingScansDeps {
  readonly logger: Logger;
  /** Counts payloads that failed validation (qrgate_messages_malformed_total). */
  readonly malformed?: CounterLike;
  readonly now?: () => number;
}

/**
 * A terminal's clock may be a little off this central's: a scan is kept this long past the
 * expiry the terminal stamped, so its `resolved` message (or the terminal's own timeout)
 * normally comes first. A lost `resolved` goes after it.
 */
const expiryGraceMs = 5_000;
/** A lane holds one scan at a time, and a terminal has a few lanes: more is a broken or hostile sender. */
const maxPerTerminal = 16;
/** The terminal's `manualTimeoutMs` is at most 10 min (gateway/config.ts): a later expiry is not believed. */
const maxHoldMs = 600_000;
/** Ended scans remembered, so a late or second answer is told so (409) rather than "unknown". */
const rememberedOutcomes = 10_000;

/**
 * The scans pending at manual-confirm lanes right now, per checkpoint, from the terminals'
 * `…/pending` messages (protocol/messages.ts pendingMessageSchema). In memory: what is
 * pending is the terminals' to say, and each terminal says it again on every connect, so a
 * restarted central catches up within a reconnect.
 */
export class PendingScans {
  private readonly pending = new Map<string, PendingScan & { readonly dropAtMs: number }>();
  private readonly outcomes = new Map<string, PendingOutcome>();
  private readonly now: () => number;

  constructor(private readonly deps: PendingScansDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** A terminal's `…/pending` payload; false when malformed (counted and logged). Never throws. */
  accept(identity: TopicIdentity, payload: Buffer | string): boolean {
    let raw: unknown;
    try {
      raw = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    } catch {
      return this.malformed(identity, 'not JSON');
    }
    const parsed = pendingMessageSchema.safeParse(raw);
    if (!parsed.success) return this.malformed(identity, `schema: ${parsed.error.issues.length} issue(s) at ${parsed.error.issues[0]?.path.join('.') || '(top level)'}`);
    const message = parsed.data;
    const known = this.pending.get(message.id);
    if (known && (known.terminalId !== identity.terminalId || known.checkpointCode !== identity.checkpointCode)) {
      return this.malformed(identity, 'a pending id another terminal holds');
    }
    if (message.state === 'resolved') {
      this.pending.delete(message.id);
      // The terminal's word is final: our answer may have lost to its button or its timeout.
      this.remember(message.id, { checkpointCode: identity.checkpointCode, decision: message.decision, reason: message.reason, answeredBy: message.answeredBy ?? null });
      return true;
    }
    // A repeat after a reconnect must not bring back a scan already answered here.
    if (this.outcomes.has(message.id)) return true;
    const { v: _v, state: _state, ...scan } = message;
    const dropAtMs = Math.min(Date.parse(message.expiresAt), this.now() + maxHoldMs) + expiryGraceMs;
    this.pending.set(message.id, { ...scan, checkpointCode: identity.checkpointCode, terminalId: identity.terminalId, dropAtMs });
    this.capTerminal(identity.terminalId);
    return true;
  }

  /** Pending scans at these checkpoints (all when undefined), oldest first. */
  list(checkpoints?: readonly string[]): PendingScan[] {
    this.sweep();
    const scans: PendingScan[] = [];
    for (const { dropAtMs: _drop, ...scan } of this.pending.values()) {
      if (checkpoints === undefined || checkpoints.includes(scan.checkpointCode)) scans.push(scan);
    }
    return scans.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** What this central knows of `id`: pending (to be answered), ended, or never seen. */
  find(id: string): Claim {
    this.sweep();
    const scan = this.pending.get(id);
    if (scan) {
      const { dropAtMs: _drop, ...rest } = scan;
      return { ok: true, scan: rest };
    }
    const outcome = this.outcomes.get(id);
    return outcome ? { ok: false, why: 'resolved', checkpointCode: outcome.checkpointCode, outcome } : { ok: false, why: 'unknown' };
  }

  /**
   * An answer was sent for `id`: it leaves the list at once, so a second answer is refused
   * here, before it reaches the terminal (which would refuse it too).
   */
  answered(scan: PendingScan, decision: 'granted' | 'refused', by: string): void {
    this.pending.delete(scan.id);
    this.remember(scan.id, { checkpointCode: scan.checkpointCode, decision, reason: decision === 'granted' ? 'confirmed' : 'rejected', answeredBy: by });
  }

  /** Keeps a terminal's newest `maxPerTerminal` scans: the memory a terminal can take is bounded. */
  private capTerminal(terminalId: string): void {
    const mine = [...this.pending.values()].filter((scan) => scan.terminalId === terminalId);
    for (const scan of mine.slice(0, Math.max(0, mine.length - maxPerTerminal))) this.pending.delete(scan.id);
  }

  private sweep(): void {
    const nowMs = this.now();
    for (const [id, scan] of this.pending) {
      if (scan.dropAtMs > nowMs) continue;
      this.pending.delete(id);
      this.remember(id, { checkpointCode: scan.checkpointCode, decision: 'refused', reason: 'timeout', answeredBy: null });
    }
  }

  private remember(id: string, outcome: PendingOutcome): void {
    this.outcomes.delete(id);
    this.outcomes.set(id, outcome);
    if (this.outcomes.size > rememberedOutcomes) {
      const oldest = this.outcomes.keys().next().value;
      if (oldest !== undefined) this.outcomes.delete(oldest);
    }
  }

  private malformed(identity: TopicIdentity, reason: string): false {
    this.deps.malformed?.inc();
    this.deps.logger.warn({ terminalId: identity.terminalId, kind: 'pending', reason }, 'ingest.malformed');
    return false;
  }
}

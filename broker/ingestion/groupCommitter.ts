import type { ScanEvent } from '../../protocol/event.js';
import type { InsertResult } from '../store/centralStore.js';

/**
 * Group commit for scan events (DESIGN.md "A PUBACK is not a receipt"). Each `…/events`
 * publish waits in `authorizePublish` until its events are durable; committing them one
 * publish at a time would cost a transaction per message. Instead submissions from every
 * connection collect for `maxDelayMs` (or until `maxEvents` wait), one `insertEvents` stores
 * them all, and every submission in the group settles together. One commit runs at a time;
 * what arrives meanwhile forms the next group, so under load groups grow by themselves.
 */

export interface GroupCommitterOptions {
  /** Longest wait for company before committing, ms. */
  readonly maxDelayMs: number;
  /** A group is cut once it holds this many events (a single submission is never split). */
  readonly maxEvents: number;
}

/**
 * The group size both ingestions (our broker's and `qrgate ingest`) cut at by default. Only a
 * backlog drain fills a group; steady traffic commits a few events at a time. In a drain,
 * 8,000 cost the SQLite store less per event than 2,000 (~20 % more events/s, docs/benchmarks.md)
 * while holding the store's thread longer (~280 ms a group): a console read during a drain
 * waits up to that, connections never do (the store has its own thread).
 */
export const defaultGroupMaxEvents = 8000;

export interface GroupCommitResult extends InsertResult {
  /** What the store recorded as the events' `receivedAt`. */
  readonly receivedAtMs: number;
  readonly submissions: number;
  readonly durationMs: number;
}

export interface GroupCommitterDeps {
  readonly insert: (events: readonly ScanEvent[], receivedAtMs: number) => Promise<InsertResult>;
  readonly now?: () => number;
  readonly onCommit?: (result: GroupCommitResult) => void;
  readonly onFailure?: (err: unknown, events: number) => void;
}

export class CommitterStoppedError extends Error {
  readonly code = 'committer-stopped';
  constructor() {
    super('the group committer is stopped: the central is shutting down');
    this.name = 'CommitterStoppedError';
  }
}

interface Submission {
  readonly events: readonly ScanEvent[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class GroupCommitter {
  private pending: Submission[] = [];
  private pendingEvents = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly options: GroupCommitterOptions,
    private readonly deps: GroupCommitterDeps,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** Resolves once `events` are durable in the store; rejects if the commit failed. */
  submit(events: readonly ScanEvent[]): Promise<void> {
    if (this.stopped) return Promise.reject(new CommitterStoppedError());
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ events, resolve, reject });
      this.pendingEvents += events.length;
      if (this.pendingEvents >= this.options.maxEvents) this.start();
      else this.timer ??= setTimeout(() => this.start(), this.options.maxDelayMs);
    });
  }

  /** Commits everything submitted so far. */
  async flush(): Promise<void> {
    this.start();
    while (this.running) await this.running;
  }

  /** Refuses new submissions, commits what is waiting. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
  }

  private start(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running || this.pending.length === 0) return;
    this.running = this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Commits group after group until nothing waits. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      await this.commit(this.takeGroup());
    }
  }

  private takeGroup(): Submission[] {
    let count = 0;
    let cut = 0;
    while (cut < this.pending.length && (cut === 0 || count + this.pending[cut]!.events.length <= this.options.maxEvents)) {
      count += this.pending[cut]!.events.length;
      cut++;
    }
    const group = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    this.pendingEvents -= count;
    return group;
  }

  private async commit(group: readonly Submission[]): Promise<void> {
    // A redelivery can sit in the same group as the original (a reconnect mid-commit): the
    // store would count it anyway, but one INSERT holding the same key twice is not
    // something every database accepts.
    const seen = new Set<string>();
    const events: ScanEvent[] = [];
    for (const submission of group) {
      for (const event of submission.events) {
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        events.push(event);
      }
    }
    const total = group.reduce((sum, s) => sum + s.events.length, 0);
    const startedMs = this.now();
    let result: InsertResult;
    try {
      result = await this.deps.insert(events, startedMs);
    } catch (err) {
      this.deps.onFailure?.(err, total);
      for (const submission of group) submission.reject(err);
      return;
    }
    for (const submission of group) submission.resolve();
    this.deps.onCommit?.({
      inserted: result.inserted,
      stored: result.stored,
      duplicates: result.duplicates + (total - events.length),
      receivedAtMs: startedMs,
      submissions: group.length,
      durationMs: this.now() - startedMs,
    });
  }
}

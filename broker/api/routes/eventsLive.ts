import { Readable } from 'node:stream';
import type { Principal } from '../../access/roles.js';
import type { StoredEvent } from '../../ingestion/liveEvents.js';
import type { MemberSummary } from '../../store/centralStore.js';
import { HttpError } from '../http.js';
import { parseQuery } from '../query.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { eventFilterSchema, eventMatches, memberOfEvent, membersOf, resolvedEventFilter, scopedEventFilter, type EventFilter, type EventWithMember } from './events.js';

export interface LiveOptions {
  /** A comment line this often keeps proxies and NAT from closing a quiet feed, and re-reads the watcher's scope. Default 15 s. */
  readonly heartbeatMs?: number;
  /** A watcher whose unsent backlog passes this is cut off rather than buffered for. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /**
   * A feed ends after this long and the browser's EventSource reconnects (after `retry`),
   * authenticating again: a revoked token or an ended session stops receiving within it.
   * Default 5 min.
   */
  readonly maxAgeMs?: number;
}

/** EventSource waits this long before reconnecting, ms. */
const retryMs = 2_000;

interface Watcher {
  readonly principal: Principal;
  filter: EventFilter;
  send(events: readonly EventWithMember[]): void;
}

/**
 * One subscription to the stored-events feed for all watchers, made while anyone watches:
 * one registry lookup per committed group, however many watch, and groups delivered in
 * commit order (a queue, since the lookup is async).
 */
class LiveFanOut {
  private readonly watchers = new Set<Watcher>();
  private unsubscribe: (() => void) | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: Pick<RouteDeps, 'store' | 'liveEvents' | 'logger'>) {}

  add(watcher: Watcher): void {
    this.watchers.add(watcher);
    this.unsubscribe ??= this.deps.liveEvents.subscribe((events) => {
      this.queue = this.queue.then(() => this.deliver(events));
    });
  }

  remove(watcher: Watcher): void {
    this.watchers.delete(watcher);
    if (this.watchers.size > 0 || this.unsubscribe === null) return;
    this.unsubscribe();
    this.unsubscribe = null;
  }

  private async deliver(events: readonly StoredEvent[]): Promise<void> {
    const watchers = [...this.watchers];
    const wanted = events.filter((event) => watchers.some((watcher) => eventMatches(watcher.filter, event)));
    if (wanted.length === 0) return;
    let members: Map<string, MemberSummary>;
    try {
      members = await membersOf(this.deps.store, wanted);
    } catch (err) {
      // The scans themselves still go out; who made them shows on the next read of the log.
      this.deps.logger.warn({ err }, 'api.events-live-members-failed');
      members = new Map();
    }
    for (const watcher of watchers) {
      if (!this.watchers.has(watcher)) continue;
      const mine = wanted.filter((event) => eventMatches(watcher.filter, event));
      if (mine.length > 0) watcher.send(mine.map((event) => ({ ...event, member: memberOfEvent(members, event, watcher.principal) })));
    }
  }
}

/** One server-sent event per scan: `event: scan`, the id for the browser's bookkeeping, the JSON as `/api/events` shows it. */
function sseEvent(event: EventWithMember): string {
  return `id: ${event.id}\nevent: scan\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * `GET /api/events/live`: the in/out log as it happens, as server-sent events
 * (text/event-stream), with `/api/events`'s filters, scope and view of each person. Each
 * event is sent as soon as its commit is durable (broker/ingestion/liveEvents.ts). A
 * comment every 15 s keeps a quiet feed open; a watcher that stops reading is cut off once
 * 1 MiB waits for it, never buffered for without bound. Only new events: a page that
 * (re)connects reads `/api/events` for what came before.
 */
export function eventsLiveRoute(deps: Pick<RouteDeps, 'store' | 'registry' | 'liveEvents' | 'logger' | 'live'>): ProtectedRoute {
  const { heartbeatMs = 15_000, maxBufferedBytes = 1024 * 1024, maxAgeMs = 5 * 60_000 } = deps.live ?? {};
  const logger = deps.logger.child({ route: 'events.live' });
  const fanOut = new LiveFanOut(deps);
  return {
    path: '/api/events/live',
    readsQuery: true,
    access: only('admin', 'manager', 'guard'),
    async handle({ query, principal }) {
      const filter: EventFilter = await resolvedEventFilter(deps, principal, parseQuery(query, eventFilterSchema));
      const stream = new Readable({ read() {} });
      const write = (text: string): void => {
        if (stream.destroyed || stream.readableEnded) return;
        // Measured before the write: one large commit group fits whatever its size; a backlog does not.
        if (stream.readableLength > maxBufferedBytes) {
          logger.warn({ role: principal.role, bufferedBytes: stream.readableLength }, 'api.events-live-dropped');
          stream.destroy();
          return;
        }
        stream.push(text);
      };
      const end = (): void => {
        if (!stream.destroyed && !stream.readableEnded) stream.push(null);
      };
      const watcher: Watcher = { principal, filter, send: (events) => write(events.map(sseEvent).join('')) };
      const heartbeat = setInterval(() => {
        write(': ping\n\n');
        // A checkpoint moved to another unit leaves the old manager's feed as it leaves their log.
        // The people a filter picked stay as they were until the feed reconnects (maxAgeMs):
        // a name search reads every member, too much to repeat for every heartbeat.
        scopedEventFilter<EventFilter>(deps.store, principal, watcher.filter).then(
          (scoped) => {
            watcher.filter = scoped;
          },
          (err: unknown) => {
            if (!(err instanceof HttpError)) logger.warn({ err }, 'api.events-live-rescope-failed');
            end();
          },
        );
      }, heartbeatMs).unref();
      const maxAge = setTimeout(end, maxAgeMs).unref();
      stream.once('close', () => {
        clearInterval(heartbeat);
        clearTimeout(maxAge);
        fanOut.remove(watcher);
      });
      fanOut.add(watcher);
      // The first bytes send the headers: the browser knows at once that it is connected.
      write(`retry: ${retryMs}\n: live\n\n`);
      return {
        status: 200,
        stream,
        contentType: 'text/event-stream; charset=utf-8',
        // nginx would otherwise hold events back to fill its buffer.
        headers: { 'x-accel-buffering': 'no' },
      };
    },
  };
}

import type { Logger } from '../../../protocol/logger.js';
import type { LoginDesk } from '../../access/loginDesk.js';
import type { CentralConfig } from '../../config.js';
import type { PendingScans } from '../../guard/pendingScans.js';
import type { TerminalCommands } from '../../guard/terminalCommands.js';
import type { LiveEvents } from '../../ingestion/liveEvents.js';
import type { MetricsRegistry } from '../../metrics.js';
import type { TerminalHolders } from '../../mqtt/terminalHolders.js';
import type { CentralStore } from '../../store/centralStore.js';
import type { RegistryDb } from '../../store/sql/registryDb.js';
import type { LiveOptions } from './eventsLive.js';

/** What every route group is built from (routes/index.ts). */
export interface RouteDeps {
  readonly config: CentralConfig;
  readonly store: CentralStore;
  /** The registry, accounts and audit log on SQLite or PostgreSQL: the same functions the CLI runs. */
  readonly registry: RegistryDb;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly now: () => number;
  /** Password logins with the central's one failure throttle, whichever door they come through. */
  readonly logins: LoginDesk;
  /** The scans pending at manual-confirm lanes (broker/guard); absent, none are. */
  readonly pending?: PendingScans;
  /** Commands to terminals; absent, a route that needs one answers 503. */
  readonly commands?: TerminalCommands;
  /** Each event as ingestion stores it (the live log). */
  readonly liveEvents: LiveEvents;
  /** The live log's heartbeat, buffer and age limits; absent, their defaults. */
  readonly live?: LiveOptions;
  /** In a cluster, which node holds each terminal (broker/mqtt/terminalHolders.ts); absent alone. */
  readonly holders?: Pick<TerminalHolders, 'all'>;
}

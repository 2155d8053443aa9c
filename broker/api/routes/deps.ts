import type { Logger } from '../../../protocol/logger.js';
import type { CentralConfig } from '../../config.js';
import type { LiveEvents } from '../../ingestion/liveEvents.js';
import type { MetricsRegistry } from '../../metrics.js';
import type { CentralStore } from '../../store/centralStore.js';
import type { CentralDb } from '../../store/sqliteSchema.js';

/** What every route group is built from (routes/index.ts). */
export interface RouteDeps {
  readonly config: CentralConfig;
  readonly store: CentralStore;
  /** The registry, accounts and audit log: the same database functions the CLI runs. */
  readonly db: CentralDb;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly now: () => number;
  /** Each event as ingestion stores it (the live log). */
  readonly liveEvents: LiveEvents;
}

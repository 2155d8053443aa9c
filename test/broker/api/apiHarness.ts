import { cpSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createToken } from '../../../broker/access/tokens.js';
import type { LiveOptions } from '../../../broker/api/routes/eventsLive.js';
import { createApiServer } from '../../../broker/api/server.js';
import { PendingScans } from '../../../broker/guard/pendingScans.js';
import { TerminalCommands } from '../../../broker/guard/terminalCommands.js';
import { centralDbFileName, loadCentralConfig, type CentralConfig, type CentralConfigInput } from '../../../broker/config.js';
import type { LiveEvents } from '../../../broker/ingestion/liveEvents.js';
import { MetricsRegistry } from '../../../broker/metrics.js';
import { openRegistryDb } from '../../../broker/registry/registryDb.js';
import type { RegistryDb } from '../../../broker/store/sql/registryDb.js';
import { SqliteRegistryDb } from '../../../broker/store/sql/sqliteRegistryDb.js';
import type { CentralDb } from '../../../broker/store/sqliteSchema.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { writeLocalCentral } from '../../../provisioning/localCentral.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface Api {
  readonly config: CentralConfig;
  readonly store: SqliteCentralStore;
  /** The API's own connection to the registry and accounts, as the central gives it. */
  readonly db: CentralDb;
  /** The same registry as the server's RegistryDb (one queue for both: a test's write never lands inside the server's transaction). */
  readonly registry: RegistryDb;
  readonly metrics: MetricsRegistry;
  readonly log: ReturnType<typeof captureLogger>;
  readonly base: string;
  readonly port: number;
  /** A token of role admin; `get` and `raw` send it unless told otherwise. */
  readonly adminToken: string;
  /** The guard screen's pending scans: a test feeds them as a terminal's `…/pending` messages would. */
  readonly pending: PendingScans;
  /** Commands the API sent to terminals, as topic and parsed payload, in order. */
  readonly commands: { readonly topic: string; readonly command: Record<string, unknown> }[];
  get: (path: string, init?: RequestInit & { token?: string | null }) => Promise<Response>;
  raw: (target: string, method?: string, headers?: Record<string, string>) => Promise<RawResponse>;
}

/**
 * A real API server on an OS-chosen loopback port with a real SQLite store, in a central
 * folder laid out as an operator's (keys, central.json), closed after each test. `raw`
 * sends the request target byte for byte: fetch() would normalise it first (resolve `..`,
 * re-encode), hiding exactly what a hostile client can send.
 */
export interface ApiOptions {
  /** A fixed clock for the server (stats windows, sessions, tokens), ms since the epoch. */
  readonly nowMs?: number;
  /** A clock the test drives (session expiry); wins over `nowMs`. */
  readonly now?: () => number;
  /** Merged shallowly into writeLocalCentral's defaults: pass a whole `http` object. */
  readonly config?: Partial<CentralConfigInput>;
  /**
   * A central folder (central.json, keys, data) to start from a copy of, instead of a new
   * one: a site seeded once serves many tests. `config` is then ignored.
   */
  readonly copyOf?: string;
  /** The stored-events feed the live log listens to, for a test to publish on. */
  readonly liveEvents?: LiveEvents;
  /** The live log's limits, such as a heartbeat shorter than its 15 s. */
  readonly live?: LiveOptions;
}

export function useApi(): (options?: ApiOptions) => Promise<Api> {
  const tempDir = useTempDir('qrgate-api-');
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  return async (options = {}) => {
    const dir = tempDir();
    // The shared-memory index is rebuilt from the WAL on open; a copied one could be stale.
    if (options.copyOf !== undefined) cpSync(options.copyOf, dir, { recursive: true, filter: (source) => !source.endsWith('-shm') });
    const config = loadCentralConfig(options.copyOf === undefined ? writeLocalCentral(dir, options.config) : join(dir, 'central.json'));
    const store = new SqliteCentralStore({ file: join(config.dataDir, centralDbFileName), logger: captureLogger().logger });
    await store.migrate();
    cleanups.push(() => store.close());
    const db = openRegistryDb(config);
    cleanups.push(async () => {
      db.close();
    });
    const log = captureLogger();
    // Process metrics would leave prom-client's event-loop monitor running once per test.
    const metrics = new MetricsRegistry({ logger: log.logger, processMetrics: false });
    const now = options.now ?? (() => options.nowMs ?? Date.now());
    const pending = new PendingScans({ logger: log.logger, now });
    const commands: { topic: string; command: Record<string, unknown> }[] = [];
    const sender = new TerminalCommands({
      now,
      publish: async (topic, payload) => {
        commands.push({ topic, command: JSON.parse(payload.toString('utf8')) as Record<string, unknown> });
      },
    });
    const registry = new SqliteRegistryDb(db);
    const app = await createApiServer({ config, store, registry, metrics, logger: log.logger, now, guard: { pending, commands: sender }, ...(options.liveEvents ? { liveEvents: options.liveEvents } : {}), ...(options.live ? { live: options.live } : {}) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    const base = `${config.http.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    const adminToken = (await createToken(registry, { name: 'test admin', role: 'admin', createdBy: 'test' })).token;

    const raw = (target: string, method = 'GET', headers: Record<string, string> = { authorization: `Bearer ${adminToken}` }): Promise<RawResponse> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path: target, agent: false, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });

    const get = (path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> => {
      const { token = adminToken, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== null) headers.set('authorization', `Bearer ${token}`);
      return fetch(`${base}${path}`, { ...rest, headers });
    };

    return { config, store, db, registry, metrics, log, base, port, adminToken, pending, commands, get, raw };
  };
}

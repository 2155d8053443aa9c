import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createApiServer } from '../../../broker/api/server.js';
import { MetricsRegistry } from '../../../broker/metrics.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { useTempDir } from '../../helpers/tempDir.js';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * A real API server on an OS-chosen loopback port with a real SQLite store, closed after
 * each test. `raw` sends the request target byte for byte: fetch() would normalise it first
 * (resolve `..`, re-encode), hiding exactly what a hostile client can send.
 */
export function useApi(): (options?: { readonly nowMs?: number }) => Promise<{
  store: SqliteCentralStore;
  metrics: MetricsRegistry;
  log: ReturnType<typeof captureLogger>;
  base: string;
  get: (path: string) => Promise<Response>;
  raw: (target: string, method?: string) => Promise<RawResponse>;
}> {
  const tempDir = useTempDir('qrgate-api-');
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  return async (options = {}) => {
    const store = new SqliteCentralStore({ file: join(tempDir(), 'central.db'), logger: captureLogger().logger });
    await store.migrate();
    cleanups.push(() => store.close());
    const log = captureLogger();
    // Process metrics would leave prom-client's event-loop monitor running once per test.
    const metrics = new MetricsRegistry({ logger: log.logger, processMetrics: false });
    const server = createApiServer({ store, metrics, logger: log.logger, now: () => options.nowMs ?? Date.now() });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;

    const raw = (target: string, method = 'GET'): Promise<RawResponse> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path: target, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });

    return { store, metrics, log, base, get: (path) => fetch(`${base}${path}`), raw };
  };
}

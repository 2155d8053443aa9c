import { createToken } from '../../broker/access/tokens.js';
import { loadCentralConfig } from '../../broker/config.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import type { ScanEvent } from '../../protocol/event.js';

/** What the tests read of `GET /api/terminals`. */
export interface Fleet {
  terminals: Array<{ terminalId: string; online: boolean; lastSeq: number | null; gaps: unknown[] }>;
}

/** A running central's HTTP API and a bearer token to read it with (the API answers nobody without one). */
export interface CentralApi {
  readonly port: number;
  readonly token: string;
}

/**
 * An admin token for the central of `centralConfigFile`, written straight into its database
 * as `qrgate tokens create` does: the central may be running, they share the file through WAL.
 */
export async function centralApi(port: number, centralConfigFile: string): Promise<CentralApi> {
  const config = loadCentralConfig(centralConfigFile);
  const { token } = await withRegistry(config, (db) => createToken(db, { name: 'test reader', role: 'admin', readOnly: true, createdBy: 'test' }));
  return { port, token };
}

export function apiFetch(api: CentralApi, path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${api.port}${path}`, { headers: { authorization: `Bearer ${api.token}` } });
}

export async function getJson<T>(api: CentralApi, path: string): Promise<T> {
  const response = await apiFetch(api, path);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Every event of one terminal in the central store, through the API's cursor paging. */
export async function storedEvents(api: CentralApi, terminalId: string): Promise<ScanEvent[]> {
  const all: ScanEvent[] = [];
  let cursor: string | null = null;
  do {
    const page: { events: ScanEvent[]; nextCursor: string | null } = await getJson(api, `/api/events?terminal=${terminalId}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    all.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

/** One unlabelled counter or gauge from `GET /metrics` (Prometheus text); 0 when absent. */
export async function metricValue(api: CentralApi, name: string): Promise<number> {
  const response = await apiFetch(api, '/metrics');
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  const line = (await response.text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

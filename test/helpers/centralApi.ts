import type { ScanEvent } from '../../protocol/event.js';

/** What the tests read of `GET /api/terminals`. */
export interface Fleet {
  terminals: Array<{ terminalId: string; online: boolean; lastSeq: number | null; gaps: unknown[] }>;
}

/** `token`: a bearer token (issue 12: every route but /healthz and the public lookup wants one). */
export async function getJson<T>(port: number, path: string, token?: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Every event of one terminal in the central store, through the API's cursor paging. */
export async function storedEvents(httpPort: number, terminalId: string, token?: string): Promise<ScanEvent[]> {
  const all: ScanEvent[] = [];
  let cursor: string | null = null;
  do {
    const page: { events: ScanEvent[]; nextCursor: string | null } = await getJson(
      httpPort,
      `/api/events?terminal=${terminalId}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      token,
    );
    all.push(...page.events);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

/** One unlabelled counter or gauge from `GET /metrics` (Prometheus text); 0 when absent. */
export async function metricValue(port: number, name: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  const line = (await response.text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

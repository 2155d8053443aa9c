/**
 * An operator's browser as far as the console bench needs one: a session cookie from
 * `POST /api/session`, then pages, downloads and the live log with it, over loopback.
 */
export class ConsoleSession {
  private constructor(
    private readonly base: string,
    private readonly cookie: string,
  ) {}

  static async login(base: string, username: string, password: string): Promise<ConsoleSession> {
    const response = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!response.ok) throw new Error(`login as ${username}: ${response.status} ${await response.text()}`);
    const cookie = response.headers.getSetCookie().map((header) => header.split(';')[0]!).find((pair) => pair.startsWith('qrgate_session='));
    if (cookie === undefined) throw new Error('login set no session cookie');
    return new ConsoleSession(base, cookie);
  }

  private fetch(path: string, signal?: AbortSignal): Promise<Response> {
    return fetch(`${this.base}${path}`, { headers: { cookie: this.cookie }, ...(signal ? { signal } : {}) });
  }

  /** A page read to its end; the time from sending the request to the last byte, ms. */
  async get(path: string): Promise<{ ms: number; bytes: number }> {
    const started = performance.now();
    const response = await this.fetch(path);
    const body = await response.arrayBuffer();
    const ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status}`);
    return { ms, bytes: body.byteLength };
  }

  /** A CSV download, counted line by line as it streams (the header line is not a row). */
  async download(path: string): Promise<{ ms: number; rows: number; bytes: number }> {
    const started = performance.now();
    const response = await this.fetch(path);
    if (response.status !== 200 || response.body === null) throw new Error(`GET ${path}: ${response.status}`);
    let lines = 0;
    let bytes = 0;
    for await (const chunk of response.body) {
      bytes += chunk.length;
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    }
    return { ms: performance.now() - started, rows: Math.max(0, lines - 1), bytes };
  }

  /**
   * Reads a server-sent-events stream, calling `onData` with each message's parsed `data`
   * and the Date.now() it arrived. Resolves once the stream is open; `close()` ends it.
   */
  async listen(path: string, onData: (data: unknown, atMs: number) => void): Promise<{ close: () => void }> {
    const abort = new AbortController();
    const response = await this.fetch(path, abort.signal);
    if (response.status !== 200 || response.body === null) throw new Error(`GET ${path}: ${response.status}`);
    const decoder = new TextDecoder();
    let pending = '';
    const reading = (async () => {
      for await (const chunk of response.body!) {
        const atMs = Date.now();
        pending += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = pending.indexOf('\n\n')) !== -1) {
          const message = pending.slice(0, end);
          pending = pending.slice(end + 2);
          for (const line of message.split('\n')) if (line.startsWith('data: ')) onData(JSON.parse(line.slice(6)), atMs);
        }
      }
    })().catch((err: unknown) => {
      if (!abort.signal.aborted) throw err;
    });
    return {
      close: () => {
        abort.abort();
        void reading;
      },
    };
  }
}

import { get as httpGet, type ClientRequest, type IncomingMessage } from 'node:http';

/** One server-sent event as a browser's EventSource would hand it over. */
export interface SseMessage {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

export interface SseClient {
  readonly status: number;
  readonly contentType: string | null;
  /** Messages so far, in order. */
  readonly messages: SseMessage[];
  /** Comment lines so far (`: ping`), without the colon. */
  readonly comments: string[];
  /** Set once the server ended the stream or cut it off. */
  readonly ended: () => boolean;
  close(): Promise<void>;
}

/**
 * A minimal EventSource (Node has none built in): reads `url` in the background, parsing
 * the text/event-stream format (blocks split by a blank line; `event:`, `id:`, `data:`;
 * lines starting with `:` are comments). A non-200 answer is returned unread. node:http on
 * a connection of its own, so `close()` surely ends the socket (a pooled fetch connection
 * can outlive an aborted read and hold a server's close() open).
 */
export async function openSse(url: string, headers: Record<string, string>): Promise<SseClient> {
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let ended = false;
  let pending = '';
  const consume = (block: string): void => {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length > 0) messages.push({ event, id, data: data.join('\n') });
  };
  const { req, res } = await new Promise<{ req: ClientRequest; res: IncomingMessage }>((resolve, reject) => {
    const req = httpGet(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => resolve({ req, res }));
    req.on('error', reject);
  });
  const closed = new Promise<void>((resolve) => res.socket.once('close', () => resolve()));
  res.on('error', () => {});
  res.on('close', () => {
    ended = true;
  });
  if (res.statusCode === 200) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      pending += chunk;
      let cut: number;
      while ((cut = pending.indexOf('\n\n')) !== -1) {
        consume(pending.slice(0, cut));
        pending = pending.slice(cut + 2);
      }
    });
  } else {
    res.resume();
  }
  return {
    status: res.statusCode ?? 0,
    contentType: res.headers['content-type'] ?? null,
    messages,
    comments,
    ended: () => ended,
    async close() {
      req.destroy();
      await closed;
    },
  };
}

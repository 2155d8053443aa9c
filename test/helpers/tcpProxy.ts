import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that a test controls: the network between a terminal and the
 * central. It listens on port 0 (`port`), forwards to `target` (changeable, so a central
 * restarted on a new port stays behind the same address), and can:
 *
 * - `cut()`: reset every connection and every new one until `restore()` (cable pulled);
 * - `stall(direction)`: stop forwarding one or both ways while the sockets stay open (a
 *   black hole: TCP keeps the bytes, the peers see silence); `restore()` delivers them;
 * - `halfOpen()`: the central's side of every live connection closes, the terminal's side
 *   stays open and swallows whatever it is sent (a NAT that forgot the flow); new
 *   connections are unaffected;
 * - `slow({ bytesPerSecond, latencyMs })`: throttle and delay, order kept;
 * - record every byte each way, per connection (`record: true`), for inspection.
 */

export type Direction = 'up' | 'down';

export interface ProxyConnection {
  readonly id: number;
  /** Client to target (terminal -> central). */
  readonly up: Buffer;
  /** Target to client (central -> terminal). */
  readonly down: Buffer;
}

interface Conditions {
  cut: boolean;
  stalled: Record<Direction, boolean>;
  bytesPerSecond: number | null;
  latencyMs: number;
}

interface Link {
  readonly id: number;
  readonly client: Socket;
  readonly upstream: Socket;
  readonly pipes: readonly Pipe[];
  /** Half-open: the upstream is gone, the client side is a black hole. */
  orphaned: boolean;
}

/** One direction of one link: a queue so a stall, a throttle or a delay keeps the order. */
class Pipe {
  private readonly queue: Array<{ bytes: Buffer; atMs: number }> = [];
  private timer: NodeJS.Timeout | null = null;
  private nextFreeMs = 0;
  private waitingForDrain = false;

  constructor(
    readonly direction: Direction,
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly conditions: Conditions,
    private readonly isOrphaned: () => boolean,
  ) {}

  push(bytes: Buffer): void {
    if (this.isOrphaned()) return; // the black hole swallows it
    this.queue.push({ bytes, atMs: Date.now() });
    this.flush();
  }

  /** Forwards what the conditions allow now; schedules itself for the rest. */
  flush(): void {
    if (this.timer || this.waitingForDrain || this.sink.destroyed) return;
    if (this.conditions.stalled[this.direction]) {
      this.source.pause(); // TCP flow control holds the rest in the kernel
      return;
    }
    const { bytesPerSecond, latencyMs } = this.conditions;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (bytesPerSecond !== null || latencyMs > 0) {
        const now = Date.now();
        const dueMs = Math.max(head.atMs + latencyMs, this.nextFreeMs);
        if (dueMs > now) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.flush();
          }, dueMs - now);
          return;
        }
        // At most 1/20 s worth of bytes at once, so a throttle is smooth rather than bursty.
        const piece = bytesPerSecond === null ? head.bytes.length : Math.max(1, Math.floor(bytesPerSecond / 20));
        const bytes = head.bytes.subarray(0, piece);
        if (bytes.length < head.bytes.length) this.queue[0] = { bytes: head.bytes.subarray(piece), atMs: head.atMs };
        else this.queue.shift();
        this.nextFreeMs = now + (bytesPerSecond === null ? 0 : (bytes.length * 1000) / bytesPerSecond);
        if (!this.write(bytes)) return;
        continue;
      }
      this.queue.shift();
      if (!this.write(head.bytes)) return;
    }
    this.source.resume();
  }

  private write(bytes: Buffer): boolean {
    if (this.sink.write(bytes)) return true;
    this.source.pause();
    this.waitingForDrain = true;
    this.sink.once('drain', () => {
      this.waitingForDrain = false;
      this.flush();
    });
    return false;
  }

  /** Bytes received and not yet passed on. */
  get held(): number {
    return this.queue.reduce((sum, item) => sum + item.bytes.length, 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }
}

export interface TcpProxyOptions {
  /** Where connections go: a port on 127.0.0.1. */
  readonly targetPort: number;
  /** Keep every byte each way (memory grows with the traffic). Default false. */
  readonly record?: boolean;
}

export class TcpProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private readonly recorded: Array<{ id: number; up: Buffer[]; down: Buffer[] }> = [];
  private readonly conditions: Conditions = { cut: false, stalled: { up: false, down: false }, bytesPerSecond: null, latencyMs: 0 };
  private nextId = 1;
  private targetPort: number;
  /** Bytes forwarded or swallowed each way, recorded or not. */
  readonly bytes: Record<Direction, number> = { up: 0, down: 0 };
  /** Connections accepted (refused ones during a cut included). */
  accepted = 0;

  private constructor(private readonly options: TcpProxyOptions) {
    this.targetPort = options.targetPort;
    this.server = createServer((client) => this.accept(client));
  }

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const proxy = new TcpProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Live connections (half-open ones included). */
  get connections(): number {
    return this.links.size;
  }

  /** Bytes received and held back (stalled, throttled or delayed), each way, over live connections. */
  held(direction: Direction): number {
    let bytes = 0;
    for (const link of this.links) for (const pipe of link.pipes) if (pipe.direction === direction) bytes += pipe.held;
    return bytes;
  }

  /** New connections go here; live ones keep their target. */
  setTarget(port: number): void {
    this.targetPort = port;
  }

  cut(): void {
    this.conditions.cut = true;
    for (const link of [...this.links]) this.drop(link, 'reset');
  }

  stall(direction: Direction | 'both' = 'both'): void {
    if (direction !== 'down') this.conditions.stalled.up = true;
    if (direction !== 'up') this.conditions.stalled.down = true;
  }

  halfOpen(): void {
    for (const link of this.links) {
      link.orphaned = true;
      for (const pipe of link.pipes) pipe.stop();
      link.upstream.destroy();
      link.client.resume();
    }
  }

  slow(options: { bytesPerSecond?: number; latencyMs?: number }): void {
    this.conditions.bytesPerSecond = options.bytesPerSecond ?? null;
    this.conditions.latencyMs = options.latencyMs ?? 0;
  }

  /** Back to a clean line: forwarding resumes (stalled bytes delivered), new connections accepted. */
  restore(): void {
    this.conditions.cut = false;
    this.conditions.stalled.up = false;
    this.conditions.stalled.down = false;
    this.conditions.bytesPerSecond = null;
    this.conditions.latencyMs = 0;
    for (const link of this.links) for (const pipe of link.pipes) pipe.flush();
  }

  /** What was recorded, one entry per connection in accept order (needs `record: true`). */
  recordedConnections(): ProxyConnection[] {
    return this.recorded.map((r) => ({ id: r.id, up: Buffer.concat(r.up), down: Buffer.concat(r.down) }));
  }

  async close(): Promise<void> {
    for (const link of [...this.links]) this.drop(link, 'reset');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    client.on('error', () => undefined);
    if (this.conditions.cut) {
      client.resetAndDestroy();
      return;
    }
    const id = this.nextId++;
    const upstream = connect(this.targetPort, '127.0.0.1');
    upstream.on('error', () => undefined);
    const record = this.options.record ? { id, up: [] as Buffer[], down: [] as Buffer[] } : null;
    if (record) this.recorded.push(record);
    let link: Link;
    const orphaned = () => link.orphaned;
    const up = new Pipe('up', client, upstream, this.conditions, orphaned);
    const down = new Pipe('down', upstream, client, this.conditions, orphaned);
    link = { id, client, upstream, pipes: [up, down], orphaned: false };
    this.links.add(link);
    client.on('data', (bytes: Buffer) => {
      this.bytes.up += bytes.length;
      record?.up.push(bytes);
      up.push(bytes);
    });
    upstream.on('data', (bytes: Buffer) => {
      this.bytes.down += bytes.length;
      record?.down.push(bytes);
      down.push(bytes);
    });
    // A close on either side closes the other, except the client side of a half-open link.
    upstream.on('close', () => {
      if (!link.orphaned) this.drop(link, 'close');
    });
    client.on('close', () => this.drop(link, 'close'));
  }

  /** `reset` sends an RST both ways (a cut); `close` passes a peer's close on. */
  private drop(link: Link, how: 'reset' | 'close'): void {
    if (!this.links.delete(link)) return;
    for (const pipe of link.pipes) pipe.stop();
    for (const socket of [link.client, link.upstream]) {
      if (how === 'reset' && !socket.destroyed) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}

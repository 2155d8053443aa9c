import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy } from './tcpProxy.js';
import { waitFor } from './waitFor.js';

/** A target that echoes every byte and remembers what it received and which connections closed. */
interface EchoServer {
  readonly port: number;
  readonly received: () => string;
  readonly connections: Socket[];
  readonly closed: Socket[];
  close(): Promise<void>;
}

async function echoServer(): Promise<EchoServer> {
  const chunks: Buffer[] = [];
  const connections: Socket[] = [];
  const closed: Socket[] = [];
  const server: Server = createServer((socket) => {
    connections.push(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => closed.push(socket));
    socket.on('data', (bytes: Buffer) => {
      chunks.push(bytes);
      socket.write(bytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => Buffer.concat(chunks).toString(),
    connections,
    closed,
    close: () =>
      new Promise((resolve) => {
        for (const socket of connections) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Client {
  readonly socket: Socket;
  readonly received: () => string;
  readonly closed: () => boolean;
}

function client(port: number): Client {
  const chunks: Buffer[] = [];
  let closed = false;
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('data', (bytes: Buffer) => chunks.push(bytes));
  socket.on('close', () => (closed = true));
  return { socket, received: () => Buffer.concat(chunks).toString(), closed: () => closed };
}

describe('TcpProxy', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(record = false) {
    const target = await echoServer();
    const proxy = await TcpProxy.start({ targetPort: target.port, record });
    cleanups.push(() => target.close(), () => proxy.close());
    const open = (): Client => {
      const c = client(proxy.port);
      cleanups.push(() => void c.socket.destroy());
      return c;
    };
    return { target, proxy, open };
  }

  it('forwards both ways and records every byte per connection and direction', async () => {
    const { proxy, open } = await setUp(true);
    const a = open();
    a.socket.write('hello ');
    a.socket.write('world');
    await waitFor(() => a.received() === 'hello world', 5_000, 'echo');
    const b = open();
    b.socket.write('second');
    await waitFor(() => b.received() === 'second', 5_000, 'echo on the second connection');
    expect(proxy.recordedConnections().map((c) => [c.up.toString(), c.down.toString()])).toEqual([
      ['hello world', 'hello world'],
      ['second', 'second'],
    ]);
    expect(proxy.bytes).toEqual({ up: 17, down: 17 });
  });

  it('cut resets live connections and refuses new ones until restored', async () => {
    const { target, proxy, open } = await setUp();
    const a = open();
    a.socket.write('x');
    await waitFor(() => a.received() === 'x', 5_000, 'echo');
    proxy.cut();
    await waitFor(() => a.closed() && target.closed.length === 1, 5_000, 'both sides closed');
    const refused = open();
    await waitFor(refused.closed, 5_000, 'a new connection refused');
    expect(target.connections).toHaveLength(1);
    proxy.restore();
    const b = open();
    b.socket.write('back');
    await waitFor(() => b.received() === 'back', 5_000, 'echo after restore');
  });

  it('stall holds the bytes with both sockets open, restore delivers them in order', async () => {
    const { target, proxy, open } = await setUp();
    const a = open();
    a.socket.write('1');
    await waitFor(() => a.received() === '1', 5_000, 'echo');
    proxy.stall();
    a.socket.write('23');
    await waitFor(() => proxy.held('up') === 2, 5_000, 'bytes held');
    expect(target.received()).toBe('1');
    expect(a.closed()).toBe(false);
    proxy.restore();
    await waitFor(() => a.received() === '123', 5_000, 'stalled bytes delivered');
  });

  it('stalls one direction only: the target hears, the client gets no answer', async () => {
    const { target, proxy, open } = await setUp();
    const a = open();
    proxy.stall('down');
    a.socket.write('ping');
    await waitFor(() => target.received() === 'ping', 5_000, 'the target got it');
    await waitFor(() => proxy.held('down') === 4, 5_000, 'the answer held');
    expect(a.received()).toBe('');
    proxy.restore();
    await waitFor(() => a.received() === 'ping', 5_000, 'the answer delivered');
  });

  it('half-open closes the target side only; the client side swallows what it sends; new connections work', async () => {
    const { target, proxy, open } = await setUp();
    const a = open();
    a.socket.write('a');
    await waitFor(() => a.received() === 'a', 5_000, 'echo');
    proxy.halfOpen();
    await waitFor(() => target.closed.length === 1, 5_000, 'the target side closed');
    a.socket.write('lost');
    await waitFor(() => proxy.bytes.up === 5, 5_000, 'the proxy took the bytes');
    expect(a.closed()).toBe(false);
    expect(proxy.connections).toBe(1);
    expect(target.received()).toBe('a');
    const b = open();
    b.socket.write('fresh');
    await waitFor(() => b.received() === 'fresh', 5_000, 'a new connection forwarded');
    a.socket.destroy();
    await waitFor(() => proxy.connections === 1, 5_000, 'the half-open link dropped when its client left');
  });

  it('slow adds latency each way and throttles to a byte rate, keeping the order', async () => {
    const { proxy, open } = await setUp();
    proxy.slow({ latencyMs: 150 });
    const a = open();
    await waitFor(() => proxy.connections === 1, 5_000, 'connected');
    let started = performance.now();
    a.socket.write('late');
    await waitFor(() => a.received() === 'late', 5_000, 'delayed echo');
    expect(performance.now() - started).toBeGreaterThanOrEqual(295); // 150 ms each way, at least

    proxy.slow({ bytesPerSecond: 20_000 });
    const payload = 'x'.repeat(8_000) + 'END';
    started = performance.now();
    a.socket.write(payload);
    await waitFor(() => a.received() === `late${payload}`, 10_000, 'throttled echo');
    expect(performance.now() - started).toBeGreaterThanOrEqual(350); // 8 kB at 20 kB/s, at least 0.4 s minus one slice
  });

  it('sends new connections to a new target, as a restarted central on another port', async () => {
    const { proxy, open } = await setUp();
    const other = await echoServer();
    cleanups.push(() => other.close());
    proxy.setTarget(other.port);
    const a = open();
    a.socket.write('moved');
    await waitFor(() => other.received() === 'moved', 5_000, 'the new target got it');
  });
});

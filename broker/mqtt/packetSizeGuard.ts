import type { Socket } from 'node:net';

/**
 * A bound on MQTT packet size, enforced before the bytes are buffered. aedes 1.x creates
 * its mqtt-packet parser without options and mqtt-packet 9 has no maximum length: it
 * collects a whole packet before handing it over, so one client announcing a 256 MB
 * Remaining Length (the MQTT 3.1.1 maximum, §2.2.3) could make the broker hold 256 MB.
 * The guard reads only the framing (one header byte, 1-4 Remaining Length bytes,
 * then skips the body arithmetically) and fails the connection as soon as a header
 * announces more than the limit. MQTT 3.1.1 has no way to tell a client its packet was
 * too big, so closing the connection is the only answer.
 */

export class PacketTooLargeError extends Error {
  readonly code = 'packet-too-large';
  constructor(
    readonly packetBytes: number,
    readonly maxPacketBytes: number,
  ) {
    super(`MQTT packet of ${packetBytes} bytes exceeds the limit of ${maxPacketBytes}`);
    this.name = 'PacketTooLargeError';
  }
}

export class MalformedLengthError extends Error {
  readonly code = 'malformed-remaining-length';
  constructor() {
    // §2.2.3: the Remaining Length takes at most four bytes.
    super('MQTT Remaining Length longer than four bytes');
    this.name = 'MalformedLengthError';
  }
}

/** Follows the framing of one connection's bytes, chunk by chunk, in whatever pieces they arrive. */
export class PacketFraming {
  private phase: 'header' | 'length' | 'body' = 'header';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Null while every packet announced so far is within the limit; else why the connection must end. */
  check(chunk: Buffer): PacketTooLargeError | MalformedLengthError | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'header') {
        i++;
        this.phase = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else if (this.phase === 'length') {
        const byte = chunk[i++]!;
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (byte & 0x80) {
          if (this.lengthBytes === 4) return new MalformedLengthError();
          continue;
        }
        const packetBytes = 1 + this.lengthBytes + this.length;
        if (packetBytes > this.maxPacketBytes) return new PacketTooLargeError(packetBytes, this.maxPacketBytes);
        this.remaining = this.length;
        this.phase = this.remaining > 0 ? 'body' : 'header';
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.phase = 'header';
      }
    }
    return null;
  }
}

/**
 * Puts the guard between the socket and aedes' parser without a stream of its own. aedes
 * takes a connection's bytes only through `read()` (on 'readable', aedes/lib/client.js
 * `nextBatch`; a flowing stream calls it too), so the socket's own `read` is wrapped: a chunk
 * that announces an oversized packet never reaches the parser, and the socket is destroyed
 * with the reason, which aedes reports as the client's error (`mqtt.client-error`). A
 * Transform and the Duplex joining it to the socket cost two more streams per connection,
 * ~8 KB of stream state and a share of a restart's CPU at 10,000 logins
 * (docs/benchmarks.md, "Reconnect storm").
 */
export function guardConnection(socket: Socket, maxPacketBytes: number): Socket {
  const framing = new PacketFraming(maxPacketBytes);
  const read = socket.read;
  socket.read = function guardedRead(this: Socket, size?: number): Buffer | null {
    const chunk = read.call(this, size) as Buffer | null;
    if (chunk === null) return null;
    const error = framing.check(chunk);
    if (error === null) return chunk;
    this.destroy(error);
    return null;
  };
  return socket;
}

import { Duplex, Transform, type TransformCallback } from 'node:stream';

/**
 * A bound on MQTT packet size, enforced before the bytes are buffered. aedes 1.x creates
 * its mqtt-packet parser without options and mqtt-packet 9 has no maximum length: it
 * collects a whole packet before handing it over, so one client announcing a 256 MB
 * Remaining Length (the MQTT 3.1.1 maximum, §2.2.3) could make the broker hold 256 MB.
 * This transform reads only the framing (one header byte, 1-4 Remaining Length bytes,
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

export class PacketSizeGuard extends Transform {
  private phase: 'header' | 'length' | 'body' = 'header';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxPacketBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
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
          if (this.lengthBytes === 4) return done(new MalformedLengthError());
          continue;
        }
        const packetBytes = 1 + this.lengthBytes + this.length;
        if (packetBytes > this.maxPacketBytes) return done(new PacketTooLargeError(packetBytes, this.maxPacketBytes));
        this.remaining = this.length;
        this.phase = this.remaining > 0 ? 'body' : 'header';
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.phase = 'header';
      }
    }
    done(null, chunk);
  }
}

/**
 * The connection aedes gets: reads pass through a PacketSizeGuard, writes go straight to
 * the socket (with its backpressure). However the connection ends, the socket goes with
 * it: `Duplex.from` does not destroy its writable half when the readable half failed
 * first, which would leave an oversized sender's socket open.
 */
export function guardConnection(socket: Duplex, maxPacketBytes: number): Duplex {
  const guard = new PacketSizeGuard(maxPacketBytes);
  socket.pipe(guard);
  const connection = Duplex.from({ readable: guard, writable: socket });
  connection.once('close', () => socket.destroy());
  return connection;
}

import { connect, type Socket } from 'node:net';

/**
 * Hand-made MQTT bytes for what mqtt.js refuses to send (an empty client id with
 * CleanSession 0, a packet announcing a huge length). Only the few packets the tests need.
 */

/** Remaining Length, MQTT 3.1.1 §2.2.3. */
export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

function utf8(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body]);
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}

/** CONNECT for MQTT 3.1.1, no will. */
export function connectPacket(clientId: string, clean: boolean, credentials?: { username: string; password: string }): Buffer {
  const flags = (clean ? 0x02 : 0x00) | (credentials ? 0xc0 : 0x00);
  const variable = Buffer.concat([utf8('MQTT'), Buffer.from([4, flags, 0, 60])]);
  const payload = credentials ? [utf8(clientId), utf8(credentials.username), utf8(credentials.password)] : [utf8(clientId)];
  return packet(0x10, Buffer.concat([variable, ...payload]));
}

/** SUBSCRIBE with packet id `id`, each filter at QoS 1. */
export function subscribePacket(id: number, filters: readonly string[]): Buffer {
  const payload = filters.map((filter) => Buffer.concat([utf8(filter), Buffer.from([1])]));
  return packet(0x82, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), ...payload]));
}

export interface RawConnection {
  readonly socket: Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves when the broker has closed the connection. */
  readonly closed: Promise<void>;
}

export function rawConnect(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset by the broker is what some tests expect
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed }));
    socket.once('error', reject);
  });
}

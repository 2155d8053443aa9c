import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it, expect } from 'vitest';
import { guardConnection, MalformedLengthError, PacketFraming, PacketTooLargeError } from '../../../broker/mqtt/packetSizeGuard.js';
import { remainingLength } from './rawMqtt.js';

function packetOf(bodyBytes: number): Buffer {
  return Buffer.concat([Buffer.from([0x30]), remainingLength(bodyBytes), Buffer.alloc(bodyBytes, 0x61)]);
}

/** Feeds `bytes` to a guard in chunks of `chunkBytes`; resolves with what passed, rejects with the guard's error. */
async function feed(maxPacketBytes: number, bytes: Buffer, chunkBytes: number): Promise<string> {
  const framing = new PacketFraming(maxPacketBytes);
  const passed: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) {
    const chunk = bytes.subarray(i, i + chunkBytes);
    const error = framing.check(chunk);
    if (error !== null) throw error;
    passed.push(chunk);
  }
  return Buffer.concat(passed).toString();
}

describe('PacketFraming', () => {
  it.each([1, 2, 3, 7, 1000])('passes packets up to the limit unchanged, read in chunks of %i bytes', async (chunkBytes) => {
    // 1 + 2 length bytes + 200 = 203 bytes exactly; then a one-byte-length packet and an empty one.
    const bytes = Buffer.concat([packetOf(200), packetOf(5), Buffer.from([0xc0, 0x00])]);
    expect(await feed(203, bytes, chunkBytes)).toBe(bytes.toString());
  });

  it.each([1, 4, 1000])('fails on the header of a packet one byte over the limit (chunks of %i)', async (chunkBytes) => {
    const bytes = Buffer.concat([packetOf(5), packetOf(201)]);
    await expect(feed(203, bytes, chunkBytes)).rejects.toBeInstanceOf(PacketTooLargeError);
  });

  it('fails as soon as a header announces 256 MB, before any body byte arrives', async () => {
    const header = Buffer.concat([Buffer.from([0x30]), remainingLength(268_435_455)]);
    await expect(feed(1024, header, 1)).rejects.toMatchObject({ code: 'packet-too-large', packetBytes: 268_435_460 });
  });

  it('fails on a Remaining Length of more than four bytes (MQTT 3.1.1 §2.2.3)', async () => {
    await expect(feed(1 << 30, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 1)).rejects.toBeInstanceOf(MalformedLengthError);
  });

  it('keeps an oversized packet from the reader of a guarded socket and destroys the socket with the reason', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      const [socket] = await accepted;
      const guarded = guardConnection(socket, 203);
      const read: Buffer[] = [];
      guarded.on('readable', () => {
        for (let chunk = guarded.read() as Buffer | null; chunk !== null; chunk = guarded.read() as Buffer | null) read.push(chunk);
      });
      const failed = once(guarded, 'error');
      client.write(Buffer.concat([packetOf(5), packetOf(201)]));
      expect((await failed)[0]).toBeInstanceOf(PacketTooLargeError);
      expect(guarded.destroyed).toBe(true);
      // The packet within the limit may have passed on its own; nothing of the oversized one did.
      expect(Buffer.concat(read).length).toBeLessThanOrEqual(packetOf(5).length);
    } finally {
      client.destroy();
      server.close();
    }
  });
});

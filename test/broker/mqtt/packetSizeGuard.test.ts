import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, it, expect } from 'vitest';
import { MalformedLengthError, PacketSizeGuard, PacketTooLargeError } from '../../../broker/mqtt/packetSizeGuard.js';
import { remainingLength } from './rawMqtt.js';

function packetOf(bodyBytes: number): Buffer {
  return Buffer.concat([Buffer.from([0x30]), remainingLength(bodyBytes), Buffer.alloc(bodyBytes, 0x61)]);
}

/** Feeds `bytes` to a guard in chunks of `chunkBytes`; resolves with what passed through. */
async function feed(maxPacketBytes: number, bytes: Buffer, chunkBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) chunks.push(bytes.subarray(i, i + chunkBytes));
  return text(Readable.from(chunks).pipe(new PacketSizeGuard(maxPacketBytes)));
}

describe('PacketSizeGuard', () => {
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
});

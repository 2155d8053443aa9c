import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DeferredAcks, pubackPacket } from '../../../broker/ingestion/deferredAcks.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The packet identifiers of the PUBACKs written on `stream` so far. */
function acked(stream: PassThrough): number[] {
  const bytes: Buffer = stream.read() ?? Buffer.alloc(0);
  const ids: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    expect([bytes[i], bytes[i + 1]]).toEqual([0x40, 0x02]);
    ids.push(bytes.readUInt16BE(i + 2));
  }
  return ids;
}

describe('DeferredAcks', () => {
  it('encodes an MQTT 3.1.1 PUBACK (§3.4)', () => {
    expect([...pubackPacket(0x1234)]).toEqual([0x40, 0x02, 0x12, 0x34]);
  });

  it('writes PUBACKs in arrival order whatever order the commits end in [MQTT-4.6.0-2]', async () => {
    const acks = new DeferredAcks();
    const stream = new PassThrough();
    const commits = [deferred(), deferred(), deferred()];
    commits.forEach((commit, i) => acks.enqueue(stream, i + 1, commit.promise, () => undefined));
    commits[2]!.resolve();
    commits[1]!.resolve();
    await Promise.resolve();
    expect(acked(stream)).toEqual([]);
    commits[0]!.resolve();
    await acks.idle();
    expect(acked(stream)).toEqual([1, 2, 3]);
  });

  it('writes nothing for a failed commit, and nothing on a connection that has gone', async () => {
    const acks = new DeferredAcks();
    const stream = new PassThrough();
    const failures: string[] = [];
    acks.enqueue(stream, 7, Promise.reject(new Error('disk full')), (err) => failures.push(err.message));
    acks.enqueue(stream, 8, Promise.resolve(), () => undefined);
    await acks.idle();
    expect(failures).toEqual(['disk full']);
    expect(acked(stream)).toEqual([8]);

    const gone = new PassThrough();
    gone.destroy();
    acks.enqueue(gone, 9, Promise.resolve(), () => undefined);
    await acks.idle();
    expect(gone.writableLength).toBe(0);
  });
});

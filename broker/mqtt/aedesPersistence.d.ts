// aedes-persistence ships typings for its callback wrapper only; aedes 1.x takes the async
// in-memory store (asyncPersistence.js) directly. Only what retainedIndexPersistence.ts uses.
declare module 'aedes-persistence/asyncPersistence.js' {
  import type { Readable } from 'node:stream';

  /** A retained PUBLISH as aedes hands it to the persistence. */
  export interface RetainedPacket {
    readonly topic: string;
    readonly payload: Buffer;
    readonly [field: string]: unknown;
  }

  export default class AsyncMemoryPersistence {
    constructor(options?: Record<string, unknown>);
    setup(broker: unknown): Promise<void>;
    storeRetained(packet: RetainedPacket): Promise<void>;
    createRetainedStream(pattern: string): Readable;
    createRetainedStreamCombi(patterns: readonly string[]): Readable;
    destroy(): Promise<void>;
  }
}

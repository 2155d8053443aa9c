import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { ScanEvent } from '../../../protocol/event.js';
import type { InsertResult } from '../centralStore.js';
import { SqliteCentralStore } from '../sqliteStore.js';
import { forwardedMethods, sendableError, sendableInsertResult, type StoreCall, type StoreReply, type StoreWorkerData } from './storeCalls.js';

/**
 * The store's thread (started by workerCentralStore.ts): the one SQLite connection that
 * writes events lives here, so a long transaction blocks this thread and never the
 * broker's event loop. Calls run one at a time, in the order they were sent.
 */

const port = parentPort;
if (port) {
  const data = workerData as StoreWorkerData;
  const send = (reply: StoreReply): void => port.postMessage(reply);
  // Lines go to the central's logger, which owns the destination and its format.
  const logger = pino({ level: data.logLevel, base: null }, { write: (line: string) => send({ kind: 'log', line }) });
  const store = new SqliteCentralStore({ file: data.file, logger, synchronous: data.synchronous });
  const callable = new Set<string>(forwardedMethods);

  store.migrate().then(
    () => send({ kind: 'opened', ok: true }),
    (err: unknown) => send({ kind: 'opened', ok: false, error: sendableError(err) }),
  );

  port.on('message', (call: StoreCall) => {
    void answer(call).then(send);
  });

  async function answer(call: StoreCall): Promise<StoreReply> {
    try {
      if (call.method === 'close') {
        await store.close();
        return { kind: 'reply', id: call.id, ok: true, value: undefined };
      }
      if (!callable.has(call.method)) throw new Error(`the store has no method ${String(call.method)}`);
      const method = store[call.method] as (...args: unknown[]) => Promise<unknown>;
      const value = await method.apply(store, [...call.args]);
      if (call.method === 'insertEvents') {
        return { kind: 'reply', id: call.id, ok: true, value: sendableInsertResult(call.args[0] as readonly ScanEvent[], value as InsertResult) };
      }
      return { kind: 'reply', id: call.id, ok: true, value };
    } catch (err) {
      return { kind: 'reply', id: call.id, ok: false, error: sendableError(err) };
    }
  }
}

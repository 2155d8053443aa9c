import { startSourceWorker } from '../../protocol/sourceWorker.js';
import type { RegistryLocation } from '../registry/registryLocation.js';
import { ListPublishError, type ListPublishProblem } from './errors.js';
import type { PublishListOptions, PublishListResult } from './publish.js';

/** What publishWorker.ts is given: the options with the clock read once (a function cannot cross threads). */
export interface PublishJob {
  readonly registry: RegistryLocation;
  readonly options: Omit<PublishListOptions, 'now'> & { readonly nowMs: number };
}

export type PublishReply =
  | { readonly ok: true; readonly result: PublishListResult }
  | { readonly ok: false; readonly name: string; readonly message: string; readonly code?: string };

/**
 * publishList in a worker thread, for the central's own process (the API's and the
 * console's "publish now"): the same publish as `qrgate lists publish`, with the seconds of
 * reading and signing a large scope kept off the event loop that serves MQTT and HTTP. The
 * thread opens the registry at `registry` itself (its own SQLite connection, or its own
 * small PostgreSQL pool) and closes it when done.
 */
export function publishListInThread(registry: RegistryLocation, options: PublishListOptions): Promise<PublishListResult> {
  const { now, ...rest } = options;
  const job: PublishJob = { registry, options: { ...rest, nowMs: (now ?? Date.now)() } };
  return new Promise((resolve, reject) => {
    const worker = startSourceWorker(import.meta.url, 'publishWorker', { workerData: job });
    let answered = false;
    worker.once('message', (reply: PublishReply) => {
      answered = true;
      if (reply.ok) resolve(reply.result);
      else if (reply.name === 'ListPublishError' && reply.code !== undefined) reject(new ListPublishError(reply.code as ListPublishProblem, reply.message));
      else reject(Object.assign(new Error(reply.message), { name: reply.name, ...(reply.code === undefined ? {} : { code: reply.code }) }));
    });
    worker.once('error', (err) => {
      if (!answered) reject(err);
    });
    worker.once('exit', (exitCode) => {
      if (!answered) reject(new ListPublishError('write-failed', `the publish thread stopped before it answered (exit code ${exitCode}); nothing was recorded unless lists show the new version`));
    });
  });
}

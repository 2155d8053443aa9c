import { parentPort, workerData } from 'node:worker_threads';
import { openRegistryAt } from '../registry/registryLocation.js';
import { publishList } from './publish.js';
import type { PublishJob, PublishReply } from './publishThread.js';

/**
 * One publish in a thread of its own (started by publishThread.ts): reading a million
 * entries, building and signing 33 MB take seconds of CPU that must not be the central's
 * event loop. The thread opens its own registry (SQLite connection or PostgreSQL pool),
 * publishes once, answers, and ends.
 */
async function publishOnce(job: PublishJob): Promise<PublishReply> {
  try {
    const registry = await openRegistryAt(job.registry);
    try {
      const { nowMs, ...options } = job.options;
      return { ok: true, result: await publishList(registry.db, { ...options, now: () => nowMs }) };
    } finally {
      await registry.close();
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { ok: false, name: (err as Error).name, message: (err as Error).message, ...(typeof code === 'string' ? { code } : {}) };
  }
}

const port = parentPort;
if (port) {
  void publishOnce(workerData as PublishJob).then((reply) => port.postMessage(reply));
}

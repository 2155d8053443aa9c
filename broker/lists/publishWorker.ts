import { parentPort, workerData } from 'node:worker_threads';
import { openCentralDb } from '../store/sqliteSchema.js';
import { publishList } from './publish.js';
import type { PublishJob, PublishReply } from './publishThread.js';

/**
 * One publish in a thread of its own (started by publishThread.ts): reading a million
 * entries, building and signing 33 MB take seconds of CPU that must not be the central's
 * event loop. The thread opens its own connection, publishes once, answers, and ends.
 */
const port = parentPort;
if (port) {
  const job = workerData as PublishJob;
  let reply: PublishReply;
  const db = openCentralDb(job.dbFile, { synchronous: 'NORMAL' });
  try {
    const { nowMs, ...options } = job.options;
    reply = { ok: true, result: publishList(db, { ...options, now: () => nowMs }) };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    reply = { ok: false, name: (err as Error).name, message: (err as Error).message, ...(typeof code === 'string' ? { code } : {}) };
  } finally {
    db.close();
  }
  port.postMessage(reply);
}

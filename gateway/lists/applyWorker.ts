import { parentPort, workerData } from 'node:worker_threads';
import { loadPublicKeys } from '../../protocol/keys.js';
import { applyListFile, asApplyError, type ExpectedFile } from './applyFile.js';
import type { ApplyResult, ListApplyProblem } from './applyResult.js';
import { openListWriter, type ListWriter } from './listWriter.js';

/**
 * The apply worker's thread (started by gateway/lists/listApplier.ts): hashing a 33 MB
 * file, decoding it and writing a million rows all happen here (applyFile.ts), so the scan
 * thread's event loop never waits for them. One job at a time.
 */

export interface ApplyWorkerData {
  readonly dataDir: string;
  readonly trustedKeyFiles: readonly string[];
  readonly scopes: readonly string[];
  readonly powerLossSafe: boolean;
}

export interface ApplyJob {
  readonly id: number;
  readonly file: string;
  readonly expected?: ExpectedFile;
}

export type ApplyReply =
  | { readonly id: number; readonly ok: true; readonly result: ApplyResult }
  | { readonly id: number; readonly ok: false; readonly code: ListApplyProblem; readonly message: string };

const port = parentPort;
if (port) {
  const data = workerData as ApplyWorkerData;
  let writer: ListWriter | null = null;
  port.on('message', (job: ApplyJob) => {
    let reply: ApplyReply;
    try {
      // Opened on the first job, not at start: a key or database problem becomes that
      // job's error, and the next job tries again.
      writer ??= openListWriter(data.dataDir, { powerLossSafe: data.powerLossSafe });
      const options = {
        trustedKeys: loadPublicKeys(data.trustedKeyFiles),
        scopes: data.scopes,
        ...(job.expected ? { expected: job.expected } : {}),
      };
      const result = applyListFile(writer, job.file, options);
      reply = { id: job.id, ok: true, result };
    } catch (err) {
      const error = asApplyError(err);
      reply = { id: job.id, ok: false, code: error.code, message: error.message };
    }
    port.postMessage(reply);
  });
}

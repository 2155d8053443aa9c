import { readFileSync } from 'node:fs';
import type { Logger } from '../../../protocol/logger.js';
import { SimulatedFleet } from './fleet.js';
import { DraftSource, recordPaced, type PacedRecordResult } from './load.js';
import type { TerminalsReady, TerminalsReply, TerminalsRequest, TerminalsSpec } from './terminalsIpc.js';

const connectTimeoutMs = 120_000;

/**
 * The child side of terminalsIpc.ts: one share of the simulated terminals, driven by the
 * parent's requests over the IPC channel. Handled one at a time, in order. Resolves once
 * stopped, or when the parent goes away (its channel closes): then the fleet is stopped
 * too, so no simulated terminal outlives its bench.
 */
export async function runTerminalsProcess(specFile: string, logger: Logger): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('bench e2e-terminals runs only as a child of bench e2e (no IPC channel)');
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as TerminalsSpec;
  const fleet = new SimulatedFleet({ dir: spec.dir, terminals: spec.terminals, logger });
  fleet.open();
  const drafts = new DraftSource();
  const record = (ratePerSec: number): Promise<PacedRecordResult> =>
    recordPaced({ total: spec.events, ratePerSec, terminals: fleet.size, burst: spec.burst, record: (index) => fleet.record(index, drafts.next()) });

  const answer = async (request: TerminalsRequest): Promise<TerminalsReply> => {
    switch (request.type) {
      case 'prefill':
        return { id: request.id, type: 'recorded', result: await record(0) };
      case 'record':
        return { id: request.id, type: 'recorded', result: await record(request.ratePerSec) };
      case 'connect':
        return { id: request.id, type: 'connected', connectMs: await connectAll(fleet) };
      case 'depth':
        return { id: request.id, type: 'depth', depth: fleet.allDrained() ? 0 : fleet.depth() };
      case 'stop': {
        const outboxLeft = fleet.depth();
        const recorded = [...fleet.recorded()];
        await fleet.stop();
        return { id: request.id, type: 'stopped', recorded, outboxLeft };
      }
    }
  };

  await new Promise<void>((resolve) => {
    let queue = Promise.resolve();
    process.on('message', (message: TerminalsRequest) => {
      queue = queue.then(async () => {
        let reply: TerminalsReply;
        try {
          reply = await answer(message);
        } catch (err) {
          reply = { id: message.id, type: 'failed', message: err instanceof Error ? err.message : String(err) };
        }
        // The last answer must be out before the channel closes.
        send(reply, undefined, {}, () => {
          if (message.type === 'stop') resolve();
        });
      });
    });
    process.once('disconnect', () => void fleet.stop().then(resolve));
    const ready: TerminalsReady = { type: 'ready' };
    send(ready);
  });
  if (process.connected) process.disconnect();
}

/** Starts every uplink; resolves with the time until all are connected. */
async function connectAll(fleet: SimulatedFleet): Promise<number> {
  const started = performance.now();
  fleet.startUplinks();
  while (fleet.connectedCount() < fleet.size) {
    if (performance.now() - started > connectTimeoutMs) {
      throw new Error(`only ${fleet.connectedCount()} of ${fleet.size} terminals connected within ${connectTimeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - started;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TerminalsReady, TerminalsReply, TerminalsRequest, TerminalsSpec } from './terminalsIpc.js';

const readyTimeoutMs = 60_000;

/** Distributive Omit: keeps each request variant's own fields. */
type RequestBody = TerminalsRequest extends infer R ? (R extends TerminalsRequest ? Omit<R, 'id'> : never) : never;
type ReplyOf<T extends TerminalsReply['type']> = Extract<TerminalsReply, { type: T }>;

/**
 * The parent side of terminalsIpc.ts: a `qrgate bench e2e-terminals` process with a share
 * of the simulated terminals. `call()` sends one request and resolves with its answer;
 * a `failed` answer or the child's exit rejects it.
 */
export class TerminalsChild {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (reply: TerminalsReply) => void; reject: (err: Error) => void }>();
  private readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;

  constructor(entry: string, dir: string, spec: TerminalsSpec) {
    const specFile = join(dir, 'terminals.json');
    writeFileSync(specFile, JSON.stringify(spec), { mode: 0o600 }); // the terminals' passwords
    this.child = spawn(process.execPath, [entry, 'bench', 'e2e-terminals', '--spec', specFile], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.exited = new Promise((resolve) => {
      // 'close': every answer the child sent before it exited has been delivered.
      this.child.once('close', (code) => {
        for (const waiting of this.pending.values()) waiting.reject(new Error(`bench e2e-terminals exited with code ${code}`));
        this.pending.clear();
        resolve(code);
      });
    });
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench e2e-terminals not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      void this.exited.then((code) => reject(new Error(`bench e2e-terminals exited with code ${code} before it was ready`)));
      this.child.on('message', (message: TerminalsReply | TerminalsReady) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
          return;
        }
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.type === 'failed') waiting?.reject(new Error(`bench e2e-terminals: ${message.message}`));
        else waiting?.resolve(message);
      });
    });
    this.ready.catch(() => undefined); // observed by call()
  }

  get pid(): number {
    return this.child.pid!;
  }

  async call<T extends TerminalsReply['type']>(body: RequestBody, expect: T): Promise<ReplyOf<T>> {
    await this.ready;
    const id = this.nextId++;
    const reply = await new Promise<TerminalsReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...body, id } as TerminalsRequest);
    });
    if (reply.type !== expect) throw new Error(`bench e2e-terminals answered ${reply.type} to ${body.type}`);
    return reply as ReplyOf<T>;
  }

  /** For a failed run: the child stops its terminals when its channel closes; SIGKILL if it does not exit. */
  async kill(timeoutMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

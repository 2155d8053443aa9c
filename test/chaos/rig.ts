import { join } from 'node:path';
import { expect } from 'vitest';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import type { CentralSite } from '../helpers/centralSite.js';
import { QrgateProcess } from '../helpers/qrgateProcess.js';
import type { TcpProxy } from '../helpers/tcpProxy.js';
import type { Boot } from '../helpers/relayCheck.js';

export interface ChaosTerminal {
  readonly name: string;
  readonly pair: VirtualSerialPair;
  readonly terminalId: string;
  readonly config: string;
  readonly dataDir: string;
}

type Cleanup = (close: () => Promise<unknown>) => void;

/**
 * A terminal `name` of `site` as the chaos tests stand it: one lane on a pty scanner with
 * sim outputs, dialling the central through `proxy` (the network the test controls), with a
 * keep-alive that notices a dead link within 7.5 s and reconnects that keep trying.
 * `cleanup` receives what to close after the test.
 */
export async function chaosTerminal(
  site: CentralSite,
  proxy: TcpProxy,
  cleanup: Cleanup,
  options: { name?: string; batchSize?: number } = {},
): Promise<ChaosTerminal> {
  const name = options.name ?? 'gate-1';
  const pair = await VirtualSerialPair.open();
  cleanup(() => pair.close());
  const added = await site.addTerminal(name, {
    url: `mqtt://127.0.0.1:${proxy.port}`,
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    central: { keepaliveS: 5, reconnectMinMs: 100, reconnectMaxMs: 2_000 },
    lanes: [
      {
        name: 'in',
        direction: 'in',
        scanner: { type: 'serial', path: pair.devicePath, suffix: '\r\n' },
        gpio: { type: 'sim', outputs: { green: 1, red: 2, buzzer: 3, relay: 4 } },
      },
    ],
  });
  return { name, pair, terminalId: added.terminalId, config: added.config, dataDir: join(site.dir, `${name}-data`) };
}

/** One chaos terminal's processes over a run: started, killed or stopped, started again. */
export class ChaosGate {
  readonly boots: Boot[] = [];
  private running: QrgateProcess | null = null;

  constructor(
    readonly terminal: ChaosTerminal,
    private readonly env: NodeJS.ProcessEnv,
    private readonly cleanup: Cleanup,
  ) {}

  get proc(): QrgateProcess {
    if (!this.running) throw new Error(`${this.terminal.name} is not running`);
    return this.running;
  }

  async start(): Promise<void> {
    const proc = new QrgateProcess(['terminal', '--config', this.terminal.config], { env: this.env });
    this.cleanup(async () => {
      proc.kill('SIGKILL');
      await proc.exited;
    });
    this.boots.push({ proc, ended: null });
    this.running = proc;
    await proc.waitForLine((l) => l.msg === 'terminal.ready', 60_000);
  }

  /** Ends the running process; a SIGTERM must end it cleanly (exit 0). */
  async end(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    proc.kill(signal);
    const exit = await proc.exited;
    this.boots.find((b) => b.proc === proc)!.ended = signal;
    this.running = null;
    expect(exit, `${this.terminal.name} ended by ${signal}`).toEqual(signal === 'SIGKILL' ? { code: null, signal } : { code: 0, signal: null });
  }
}

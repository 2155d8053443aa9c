import { join } from 'node:path';
import { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import type { CentralSite } from '../helpers/centralSite.js';
import { TcpProxy } from '../helpers/tcpProxy.js';

export interface ChaosTerminal {
  readonly proxy: TcpProxy;
  readonly pair: VirtualSerialPair;
  readonly terminalId: string;
  readonly config: string;
  readonly dataDir: string;
}

/**
 * A terminal `gate-1` of `site` as the chaos tests stand it: one lane on a pty scanner with
 * sim outputs, dialling the central at `mqttPort` through a TcpProxy the test controls, with
 * a keep-alive that notices a dead link within 7.5 s and reconnects that keep trying.
 * `cleanup` receives what to close after the test.
 */
export async function chaosTerminal(
  site: CentralSite,
  mqttPort: number,
  cleanup: (close: () => Promise<unknown>) => void,
  options: { batchSize?: number } = {},
): Promise<ChaosTerminal> {
  const proxy = await TcpProxy.start({ targetPort: mqttPort });
  cleanup(() => proxy.close());
  const pair = await VirtualSerialPair.open();
  cleanup(() => pair.close());
  const added = await site.addTerminal('gate-1', {
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
  return { proxy, pair, terminalId: added.terminalId, config: added.config, dataDir: join(site.dir, 'gate-1-data') };
}

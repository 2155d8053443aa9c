import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CentralConfigInput } from '../../broker/config.js';
import type { TerminalConfigInput } from '../../gateway/config.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { centralApi, type CentralApi } from './centralApi.js';
import { QrgateProcess } from './qrgateProcess.js';

/**
 * Runs a one-shot qrgate command and returns its stdout, failing loudly on a non-zero exit.
 * `transcript`, when given, receives every stdout and stderr line (a privacy test reads them all).
 */
export async function qrgate(args: readonly string[], transcript?: string[]): Promise<string> {
  const proc = new QrgateProcess(args);
  const { code } = await proc.exited;
  const stdout = proc.lines.map((l) => ('text' in l ? String(l.text) : JSON.stringify(l))).join('\n');
  transcript?.push(...stdout.split('\n'), ...proc.stderr);
  if (code !== 0) throw new Error(`qrgate ${args.join(' ')} exited ${code}:\n${proc.stderr.join('\n')}\n${stdout}`);
  return stdout;
}

export interface CentralSite {
  readonly dir: string;
  readonly centralConfig: string;
  readonly mqttPort: number;
  /** Registered people's citizen ids (all `allow`), typed at a keyboard lane. */
  readonly people: readonly string[];
  /** Registered people whose status is `deny` (CentralSiteOptions.denied of them). */
  readonly denied: readonly string[];
  addTerminal(name: string, options?: AddTerminalOptions): Promise<{ terminalId: string; config: string; code: string; password: string }>;
  /** `api` reads the HTTP API with a read-only admin token made for this site. */
  startCentral(): Promise<{ proc: QrgateProcess; httpPort: number; mqttPort: number; api: CentralApi }>;
}

export interface AddTerminalOptions {
  readonly batchSize?: number;
  readonly lists?: readonly string[];
  /** The broker address the terminal dials (a TcpProxy in front of the central); default the central's own. */
  readonly url?: string;
  /** Replace the one keyboard (stdin) lane, e.g. with a pty serial scanner. */
  readonly lanes?: TerminalConfigInput['lanes'];
  /** More `central` settings (keepaliveS, reconnect waits…). */
  readonly central?: Partial<NonNullable<TerminalConfigInput['central']>>;
}

/**
 * A central and its provisioning done the way a technician does it, through the CLI:
 * keys, a checkpoint, terminals, a signed list installed on each terminal. Terminals get a
 * keyboard (stdin) lane so a test can type scans into the real process.
 */
export interface CentralSiteOptions {
  readonly people?: number;
  /** Also registers this many members with status `deny` (default none): refusals a relay check must see. */
  readonly denied?: number;
  /** Adds a TLS listener on this port with this PEM certificate and key; terminals then use mqtts:// and trust `cert`. */
  readonly tls?: { readonly port: number; readonly cert: string; readonly key: string };
  /** The central's store; default the SQLite file in its dataDir. */
  readonly store?: CentralConfigInput['store'];
}

export async function createCentralSite(dir: string, mqttPort: number, options: CentralSiteOptions = {}): Promise<CentralSite> {
  const { people = 50, denied = 0, tls, store } = options;
  if (tls) {
    writeFileSync(join(dir, 'server.crt'), tls.cert);
    writeFileSync(join(dir, 'server.key'), tls.key);
  }
  const centralConfig = writeLocalCentral(dir, {
    mqtt: { host: '127.0.0.1', port: mqttPort, ...(tls ? { tls: { port: tls.port, cert: 'server.crt', key: 'server.key' } } : {}) },
    ...(store ? { store } : {}),
  });
  const ids = Array.from({ length: people }, (_, i) => `0460${String(90_000_000 + i)}`);
  const deniedIds = Array.from({ length: denied }, (_, i) => `0460${String(91_000_000 + i)}`);
  const rows = [...ids.map((id) => `citizen,${id},allow`), ...deniedIds.map((id) => `citizen,${id},deny`)];
  const csv = join(dir, 'people.csv');
  writeFileSync(csv, `namespace,id,status\n${rows.join('\n')}\n`);
  const listFile = join(dir, 'default.qgl');
  await qrgate(['lists', 'build', '--scope', 'default', '--list-version', '1', '--key', join(dir, 'keys'), '--entries', csv, '--out', listFile]);
  const { code } = JSON.parse(
    await qrgate(['checkpoints', 'create', '--central-config', centralConfig, '--name', 'Cổng chính', '--direction', 'both', '--confirm', 'auto', '--json']),
  ) as { code: string };

  let token: string | undefined;
  return {
    dir,
    centralConfig,
    mqttPort,
    people: ids,
    denied: deniedIds,
    async addTerminal(name, options = {}) {
      const out = join(dir, `${name}.json`);
      const added = JSON.parse(
        await qrgate([
          'terminals', 'add', '--central-config', centralConfig, '--checkpoint', code,
          '--url', options.url ?? (tls ? `mqtts://localhost:${tls.port}` : `mqtt://127.0.0.1:${mqttPort}`), '--out', out, '--json',
          // Given at provisioning, as a technician does: the central's ACL holds the same scopes as the config.
          ...(options.lists ? ['--lists', options.lists.join(',')] : []),
        ]),
      ) as { terminalId: string; config: string };
      const config = JSON.parse(readFileSync(added.config, 'utf8'));
      config.dataDir = `${name}-data`;
      config.lanes = options.lanes ?? [{ name: 'in', direction: 'in', scanner: { type: 'stdin' }, gpio: { type: 'sim', outputs: { relay: 4 } } }];
      config.policy = { ...config.policy, debounceMs: 0, relayPulseMs: 50 };
      if (options.batchSize) config.central.batchSize = options.batchSize;
      Object.assign(config.central, options.central);
      if (tls) config.central.ca = join(dir, 'server.crt');
      writeFileSync(added.config, JSON.stringify(config));
      // The site's hand-built list, unless the terminal takes its lists from the central's registry.
      if (config.lists.includes('default')) await qrgate(['lists', 'import', '--config', added.config, listFile]);
      return { terminalId: added.terminalId, config: added.config, code, password: config.central.password as string };
    },
    async startCentral() {
      const proc = new QrgateProcess(['central', '--config', centralConfig]);
      const ready = await proc.waitForLine((l) => l.msg === 'central.ready');
      const httpPort = (ready.http as { port: number }).port;
      token ??= (await centralApi(httpPort, centralConfig)).token;
      return { proc, httpPort, mqttPort: (ready.mqtt as { port: number }).port, api: { port: httpPort, token } };
    },
  };
}

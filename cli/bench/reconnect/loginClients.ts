import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { Backoff, stableConnectionMs } from '../../../gateway/uplink/backoff.js';
import { buildClientOptions } from '../../../gateway/uplink/clientOptions.js';
import { uplinkConfigSchema } from '../../../gateway/uplink/config.js';
import { statusPayload } from '../../../gateway/uplink/payloads.js';
import { commandFilter, terminalTopic } from '../../../protocol/topics.js';

/** One share of `bench reconnect`'s terminals, as the bench writes it for a child (0600: it holds secrets). */
export interface LoginClientsSpec {
  readonly url: string;
  readonly terminals: readonly { readonly terminalId: string; readonly checkpointCode: string; readonly secret: string }[];
}

/** What a child prints on stdout, one JSON line whenever its count of logged-in terminals changes (at most every 100 ms). */
export interface LoginClientsReport {
  readonly msg: 'clients.count';
  readonly connected: number;
  readonly total: number;
}

const reportEveryMs = 100;

/**
 * Terminals that do at login what gateway/uplink/uplink.ts does, with its connection
 * options and its backoff, and nothing else: CONNECT with the offline status as will, then
 * the retained `online` status and the command subscription. No outbox, no SQLite: ten
 * thousand of them fit in a few processes, and a reconnect storm is what is measured.
 */
export function runLoginClients(specFile: string, write: (line: string) => void): { stop(): Promise<void> } {
  const spec = JSON.parse(readFileSync(specFile, 'utf8')) as LoginClientsSpec;
  let connected = 0;
  let reported = -1;
  let stopped = false;
  const clients = new Set<MqttClient>();
  const timers = new Set<NodeJS.Timeout>();

  const report = (): void => {
    if (connected === reported) return;
    reported = connected;
    const line: LoginClientsReport = { msg: 'clients.count', connected, total: spec.terminals.length };
    write(`${JSON.stringify(line)}\n`);
  };
  const reporter = setInterval(report, reportEveryMs);

  for (const terminal of spec.terminals) {
    const config = uplinkConfigSchema.parse({ url: spec.url, username: terminal.terminalId, password: terminal.secret });
    const backoff = new Backoff({ minMs: config.reconnectMinMs, maxMs: config.reconnectMaxMs, stableMs: stableConnectionMs });
    const bootId = randomUUID();
    const statusTopic = terminalTopic(terminal.checkpointCode, terminal.terminalId, 'status');
    const attempt = (): void => {
      if (stopped) return;
      const client = mqttConnect(
        spec.url,
        buildClientOptions(config, { terminalId: terminal.terminalId, statusTopic, willPayload: statusPayload('offline', bootId, Date.now()) }),
      );
      clients.add(client);
      let upSinceMs: number | null = null;
      client.on('connect', () => {
        upSinceMs = Date.now();
        connected++;
        client.publish(statusTopic, statusPayload('online', bootId, Date.now()), { qos: 1, retain: true });
        client.subscribe(commandFilter(terminal.checkpointCode, terminal.terminalId), { qos: 1 });
      });
      client.on('error', () => undefined); // a refused or reset connection ends in 'close'
      client.once('close', () => {
        clients.delete(client);
        client.removeAllListeners();
        client.on('error', () => undefined);
        client.end(true);
        if (upSinceMs !== null) {
          connected--;
          backoff.connectionEnded(Date.now() - upSinceMs);
        }
        if (stopped) return;
        const timer = setTimeout(() => {
          timers.delete(timer);
          attempt();
        }, backoff.next());
        timers.add(timer);
      });
    };
    attempt();
  }

  return {
    async stop() {
      stopped = true;
      clearInterval(reporter);
      for (const timer of timers) clearTimeout(timer);
      await Promise.all([...clients].map((client) => client.endAsync(true).catch(() => undefined)));
    },
  };
}

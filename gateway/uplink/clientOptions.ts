import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { UplinkConfig } from './config.js';

export interface SessionIdentity {
  readonly terminalId: string;
  readonly statusTopic: string;
  /** The retained `offline` status the broker publishes if we vanish (the will). */
  readonly willPayload: string;
}

/** Generous for a Pi on a mobile link; a refused port fails at once anyway. */
const CONNECT_TIMEOUT_MS = 20_000;

/**
 * mqtt.js options for one connection attempt. TLS files are read here, per attempt, so a
 * certificate renewed on disk is used at the next reconnect without a restart; a missing
 * file fails this attempt (and is retried), never the terminal.
 */
export function buildClientOptions(config: UplinkConfig, identity: SessionIdentity): IClientOptions {
  const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
  return {
    clientId: identity.terminalId,
    username: config.username,
    password: config.password,
    protocolVersion: 4, // MQTT 3.1.1: aedes 1.x, Mosquitto and EMQX all speak it (DESIGN.md "MQTT")
    // The outbox is ours (STYLE.md habit 9): nothing may live only in a broker session or
    // in mqtt.js's in-memory store, which a reboot loses. Every connection starts clean and
    // the drain re-sends whatever SQLite still holds.
    clean: true,
    keepalive: config.keepaliveS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Reconnects are ours too (gateway/uplink/uplink.ts): one fresh client per attempt.
    reconnectPeriod: 0,
    resubscribe: false,
    // Telemetry is a heartbeat: an old one replayed after a reconnect would lie.
    queueQoSZero: false,
    will: { topic: identity.statusTopic, payload: Buffer.from(identity.willPayload), qos: 1, retain: true },
    // mqtt.js's debug output (DEBUG=mqttjs*) prints the CONNECT packet, password included
    // (`_writePacket :: packet: %O`): the uplink's own pino lines are the log.
    log: () => undefined,
    rejectUnauthorized: config.rejectUnauthorized,
    ca: read(config.ca),
    cert: read(config.cert),
    key: read(config.key),
  };
}

import type { AedesOptions } from 'aedes';
import { maxTopicLevels } from '../../protocol/topics.js';
import { maxClientIdLength } from '../auth/authenticate.js';
import type { CentralMqttConfig } from '../config.js';

/**
 * The resource bounds that keep one frozen or hostile client from exhausting the broker
 * (STYLE.md habit 8). Each maps to an aedes option or to our own guard:
 *   - topic depth: `maxTopicLevels` = the deepest topic qrgate uses (protocol/topics.ts);
 *     aedes refuses deeper PUBLISH/SUBSCRIBE before they reach its matcher, whose
 *     `too many words` throw once crashed the broker.
 *   - packet size: packetSizeGuard.ts (aedes has no option for it).
 *   - packets queued before CONNACK: `queueLimit`.
 *   - a client that stops reading: `drainTimeout` drops it instead of buffering forever.
 *   - a socket that never sends CONNECT: `connectTimeout`.
 *   - inbound QoS 2 awaiting PUBREL: `maxInflightInbound` (terminals use QoS 1).
 *   - client id length: checked in authenticate.ts for every protocol level, because aedes'
 *     `maxClientsIdLength` only applies to MQTT 3.1 (protocol level 3).
 * Not used: aedes `keepaliveLimit`, whose refusal is CONNACK return code 6, a value MQTT
 * 3.1.1 reserves (§3.2.2.3); TCP keep-alive on accepted sockets covers dead peers instead.
 */

/** QoS 2 PUBLISHes a client may leave waiting for PUBREL; nothing of ours uses QoS 2. */
const maxInflightInbound = 16;

export function aedesLimits(mqtt: CentralMqttConfig): Pick<
  AedesOptions,
  'maxTopicLevels' | 'queueLimit' | 'drainTimeout' | 'connectTimeout' | 'maxInflightInbound' | 'maxClientsIdLength'
> {
  return {
    maxTopicLevels,
    queueLimit: mqtt.queueLimit,
    drainTimeout: mqtt.drainTimeoutMs,
    connectTimeout: mqtt.connectTimeoutMs,
    maxInflightInbound,
    maxClientsIdLength: maxClientIdLength,
  };
}

/** Idle peers that vanished without a FIN (a Pi losing power) are found by TCP within minutes. */
export const tcpKeepAliveDelayMs = 60_000;

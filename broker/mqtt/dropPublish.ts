import type { PublishPacket } from 'aedes';

/**
 * Where publishes that must be acknowledged but not delivered go. MQTT 3.1.1 gives a broker
 * two answers to a PUBLISH it will not carry out: acknowledge it as usual, or close the
 * connection [MQTT-3.3.5-2]. aedes 1.x only implements the second (an error from
 * `authorizePublish` closes the client; moscajs/aedes#210), which for a terminal means a
 * reconnect loop resending the same message forever. So the hook rewrites the packet to
 * this topic and lets aedes acknowledge it: `$` topics never match a filter starting with a
 * wildcard [MQTT-4.7.2-1], aedes filters `$SYS/` from offline queues too, and the ACL lets
 * no terminal subscribe under `$`. Nothing is retained and the payload is released.
 */
export const droppedTopic = '$SYS/qrgate/dropped';

export function dropPublish(packet: PublishPacket): void {
  packet.topic = droppedTopic;
  packet.retain = false;
  packet.payload = Buffer.alloc(0);
}

import type { Client, Subscription } from 'aedes';
import type { Logger } from '../../protocol/logger.js';
import type { BrokerMetrics } from '../mqtt/brokerMetrics.js';
import { printable } from '../mqtt/printable.js';
import { maySubscribe } from './acl.js';
import type { Sessions } from './sessions.js';

/**
 * aedes `authorizeSubscribe`. A filter outside the ACL is answered, not punished: the
 * SUBACK carries 0x80 (failure) for it and the other filters of the same SUBSCRIBE are
 * granted as usual [MQTT-3.8.4-5], [MQTT-3.9.3-2]. aedes sends 0x80 when the hook hands
 * back a null subscription; an error from the hook would close the connection instead.
 * Filters that are malformed or deeper than maxTopicLevels never get here: aedes refuses
 * them first and closes the connection, as a malformed packet deserves.
 */

export interface AuthorizeSubscribeDeps {
  readonly sessions: Sessions;
  readonly metrics: BrokerMetrics;
  readonly logger: Logger;
}

/** Nothing we publish needs QoS 2; granting at most 1 keeps the four-way handshake out of the broker. */
const maxGrantedQos = 1;

export function createAuthorizeSubscribe(deps: AuthorizeSubscribeDeps) {
  const { sessions, metrics, logger } = deps;
  return (client: Client, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void => {
    const principal = sessions.principal(client);
    if (principal !== undefined && maySubscribe(principal, subscription.topic)) {
      if (subscription.qos > maxGrantedQos) subscription.qos = maxGrantedQos;
      callback(null, subscription);
      return;
    }
    metrics.subscribeRefused.inc();
    logger.warn({ clientId: printable(client.id), topic: printable(subscription.topic) }, 'mqtt.subscribe-refused');
    callback(null, null);
  };
}

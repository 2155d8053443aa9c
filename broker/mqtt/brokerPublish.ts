import type { Aedes } from 'aedes';

/**
 * A publish of the central's own (list files, enrollment answers) through its aedes
 * instance, QoS 1, as a promise that settles once aedes has taken it.
 */
export function brokerPublish(broker: Pick<Aedes, 'publish'>, topic: string, payload: Buffer, options: { readonly retain: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    broker.publish({ cmd: 'publish', topic, payload, qos: 1, retain: options.retain, dup: false }, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Releases each client's publish acknowledgements in the order its PUBLISHes arrived,
 * whatever order our hooks finish in (a malformed batch is judged in microseconds, a good
 * one waits for its group commit). MQTT 3.1.1 states the rule for the receiving side of
 * QoS 1 as "send PUBACK packets in the order in which the corresponding PUBLISH packets
 * were received" [MQTT-4.6.0-2]; we hold the broker to it too. aedes writes the PUBACK as
 * soon as `authorizePublish` calls back, so ordering the callbacks orders the acks.
 */
export class AckOrder<K extends object> {
  private readonly tails = new WeakMap<K, Promise<void>>();

  /**
   * `verdict` settles with null (acknowledge) or an Error (refuse); `release` is called
   * with it once every earlier entry for `key` has been released. Never rejects.
   */
  enqueue(key: K, verdict: Promise<Error | null>, release: (error: Error | null) => void): void {
    const previous = this.tails.get(key);
    const settled = verdict.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    const released = (previous ? previous.then(() => settled) : settled).then(release);
    this.tails.set(key, released.catch(() => undefined));
  }
}

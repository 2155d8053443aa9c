/** What a SUBACK answers for one topic filter; mqtt.js hands these to a subscribe callback. */
export interface SubscriptionGrant {
  readonly topic: string;
  readonly qos: number;
}

/** The SUBACK packet itself, mqtt.js's third subscribe-callback argument: one return code per filter, in order. */
export interface SubackPacket {
  readonly granted?: readonly unknown[];
}

/** SUBACK return code 0x80: how a 3.1.1 broker refuses one filter of a SUBSCRIBE (§3.9.3, [MQTT-3.9.3-2]). */
export const SUBACK_FAILURE = 0x80;

/**
 * The filters the broker refused. The other filters of the same SUBSCRIBE are granted
 * as usual, so a caller that needs them all must check every grant, not just the first.
 * mqtt.js 5 reports a refusal as an error and leaves the grants as requested, so the
 * SUBACK's own return codes, when given, are what counts.
 */
export function refusedTopics(granted: readonly SubscriptionGrant[] | undefined, suback?: SubackPacket): string[] {
  const subs = granted ?? [];
  const codes = suback?.granted;
  return subs
    .filter((grant, i) => {
      const code = codes?.[i];
      return typeof code === 'number' ? (code & SUBACK_FAILURE) !== 0 : grant.qos === SUBACK_FAILURE;
    })
    .map((grant) => grant.topic);
}

/** True when the SUBSCRIBE failed outright or the broker refused any of its filters. */
export function subscribeRefused(err: Error | null | undefined, granted: readonly SubscriptionGrant[] | undefined): boolean {
  return Boolean(err) || refusedTopics(granted).length > 0;
}

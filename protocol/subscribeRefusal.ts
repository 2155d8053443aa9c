/** What a SUBACK answers for one topic filter; mqtt.js hands these to a subscribe callback. */
export interface SubscriptionGrant {
  readonly topic: string;
  readonly qos: number;
}

/** SUBACK return code 0x80: how a 3.1.1 broker refuses one filter of a SUBSCRIBE (§3.9.3, [MQTT-3.9.3-2]). */
export const SUBACK_FAILURE = 0x80;

/**
 * The filters the broker refused. The other filters of the same SUBSCRIBE are granted
 * as usual, so a caller that needs them all must check every grant, not just the first.
 */
export function refusedTopics(granted: readonly SubscriptionGrant[] | undefined): string[] {
  return (granted ?? []).filter((g) => g.qos === SUBACK_FAILURE).map((g) => g.topic);
}

/** True when the SUBSCRIBE failed outright or the broker refused any of its filters. */
export function subscribeRefused(err: Error | null | undefined, granted: readonly SubscriptionGrant[] | undefined): boolean {
  return Boolean(err) || refusedTopics(granted).length > 0;
}

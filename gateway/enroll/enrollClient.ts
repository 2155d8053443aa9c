import { connect, type MqttClient } from 'mqtt';
import { enrollResultSchema, enrollUsername, type EnrollResult } from '../../protocol/enrollment.js';
import { subscribeRefused } from '../../protocol/subscribeRefusal.js';
import { enrollRequestTopic, enrollResultTopic } from '../../protocol/topics.js';

/**
 * One enrollment exchange over MQTT 3.1.1 (protocol/enrollment.ts): log in as `$enroll`
 * with the QR text as password, subscribe to our result topic, publish the request, wait
 * for the one answer, disconnect. Subscribing before asking means the answer, which is
 * never retained, cannot be missed.
 */

export type EnrollExchange =
  | { readonly kind: 'answer'; readonly result: EnrollResult }
  /** No answer: the network, the broker refusing the login (CONNACK code), or time. */
  | { readonly kind: 'unreachable'; readonly detail: string }
  /** An answer that is not one (another broker, a bug): never trusted. */
  | { readonly kind: 'bad-answer'; readonly detail: string };

export interface EnrollExchangeOptions {
  readonly url: string;
  readonly qrText: string;
  /** `enroll-` + the device's nonce (protocol/enrollment.ts enrollClientIdPattern). */
  readonly clientId: string;
  /** For the whole exchange, connect included. */
  readonly timeoutMs: number;
  /** mqtts only: the CA that signed the central's certificate, when the system store does not hold it. */
  readonly ca?: Buffer;
}

export async function enrollOverMqtt(options: EnrollExchangeOptions): Promise<EnrollExchange> {
  const client: MqttClient = connect(options.url, {
    clientId: options.clientId,
    username: enrollUsername,
    password: options.qrText,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: options.timeoutMs,
    ...(options.ca ? { ca: options.ca } : {}),
    // mqtt.js debug output prints the CONNECT packet, and this password is a live token.
    log: () => undefined,
  });
  const resultTopic = enrollResultTopic(options.clientId);
  try {
    return await new Promise<EnrollExchange>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'unreachable', detail: `no answer within ${options.timeoutMs} ms` }), options.timeoutMs);
      const done = (outcome: EnrollExchange) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      client.on('error', (err: Error & { code?: string | number }) => done({ kind: 'unreachable', detail: typeof err.code === 'number' ? `login refused (CONNACK ${err.code})` : String(err.code ?? err.message) }));
      client.on('close', () => done({ kind: 'unreachable', detail: 'connection closed' }));
      client.on('message', (topic, payload) => {
        if (topic !== resultTopic) return;
        let json: unknown;
        try {
          json = JSON.parse(payload.toString('utf8'));
        } catch {
          return done({ kind: 'bad-answer', detail: 'the answer is not JSON' });
        }
        const result = enrollResultSchema.safeParse(json);
        done(result.success ? { kind: 'answer', result: result.data } : { kind: 'bad-answer', detail: `the answer is invalid at ${result.error.issues.map((i) => i.path.join('.')).join(', ')}` });
      });
      client.once('connect', () => {
        client.subscribe(resultTopic, { qos: 1 }, (err, granted) => {
          if (subscribeRefused(err, granted)) return done({ kind: 'unreachable', detail: 'the central refused the result subscription' });
          client.publish(enrollRequestTopic(options.clientId), JSON.stringify({ v: 1 }), { qos: 1 }, (publishErr) => {
            if (publishErr) done({ kind: 'unreachable', detail: publishErr.message });
          });
        });
      });
    });
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}

import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { brokerForLogs } from '../../protocol/brokerUrl.js';
import { buildClientOptions } from '../uplink/clientOptions.js';
import { brokerUrls, type UplinkConfig } from '../uplink/config.js';
import { fail, pass, skip, type CheckResult } from './report.js';

/** CONNACK return codes a technician can act on (MQTT 3.1.1, 3.2.2.3). */
const refusals: Record<number, string> = {
  4: 'refused: wrong terminal id or secret (rotated? re-add the terminal)',
  5: 'refused: not authorised (terminal removed or checkpoint retired)',
};

/**
 * One MQTT connection with the terminal's own credentials, closed at once. It must use the
 * terminal's own client id: the central admits a terminal under no other
 * (broker/auth/authenticate.ts), so a running terminal would be taken over
 * [MQTT-3.1.4-2], which is why doctor runs with the service stopped. It has no will, so
 * the central sees no `offline` from it.
 */
export async function centralCheck(config: UplinkConfig | undefined, terminalId: string, timeoutMs = 15_000): Promise<CheckResult> {
  if (!config) return skip('central', 'no central in the config: an offline terminal');
  // With several nodes, the first one: each takes the same credentials from the same store.
  const url = brokerUrls(config)[0]!;
  const where = brokerForLogs(url);
  let options: IClientOptions;
  try {
    options = buildClientOptions(config, { terminalId, statusTopic: '', willPayload: '' });
  } catch (err) {
    return fail('central', `${where}: ${(err as Error).message}`);
  }
  const { will: _, ...withoutWill } = options;
  const client: MqttClient = connect(url, { ...withoutWill, connectTimeout: timeoutMs });
  const outcome = await new Promise<CheckResult>((resolve) => {
    const timer = setTimeout(() => resolve(fail('central', `${where}: no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const done = (result: CheckResult) => {
      clearTimeout(timer);
      resolve(result);
    };
    client.once('connect', () => done(pass('central', `${where}: connected, credentials accepted`)));
    client.once('error', (err: Error & { code?: string | number }) => {
      const code = typeof err.code === 'number' ? err.code : undefined;
      done(fail('central', `${where}: ${code !== undefined && refusals[code] ? refusals[code] : `unreachable (${err.code ?? err.message})`}`));
    });
  });
  await client.endAsync(true).catch(() => undefined);
  return outcome;
}

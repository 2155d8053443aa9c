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
export async function centralCheck(config: UplinkConfig | undefined, terminalId: string, timeoutMs = 15_000): Promise<CheckResult[]> {
  if (!config) return [skip('central', 'no central in the config: an offline terminal')];
  const urls = brokerUrls(config);
  let options: IClientOptions;
  try {
    options = buildClientOptions(config, { terminalId, statusTopic: '', willPayload: '' });
  } catch (err) {
    return [fail('central', `${urls.map(brokerForLogs).join(', ')}: ${(err as Error).message}`)];
  }
  const { will: _, ...withoutWill } = options;
  // Every node, one after the other: a terminal fails over to any of them, so each must take
  // its credentials. Never at once: the same client id on two nodes is a takeover.
  const results: CheckResult[] = [];
  for (const [i, url] of urls.entries()) {
    results.push(await connectOnce(urls.length === 1 ? 'central' : `central ${i + 1}/${urls.length}`, url, withoutWill, timeoutMs));
  }
  return results;
}

async function connectOnce(check: string, url: string, options: IClientOptions, timeoutMs: number): Promise<CheckResult> {
  const where = brokerForLogs(url);
  const client: MqttClient = connect(url, { ...options, connectTimeout: timeoutMs, reconnectPeriod: 0 });
  const outcome = await new Promise<CheckResult>((resolve) => {
    const timer = setTimeout(() => resolve(fail(check, `${where}: no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const done = (result: CheckResult) => {
      clearTimeout(timer);
      resolve(result);
    };
    client.once('connect', () => done(pass(check, `${where}: connected, credentials accepted`)));
    client.once('error', (err: Error & { code?: string | number }) => {
      const code = typeof err.code === 'number' ? err.code : undefined;
      done(fail(check, `${where}: ${code !== undefined && refusals[code] ? refusals[code] : `unreachable (${err.code ?? err.message})`}`));
    });
  });
  await client.endAsync(true).catch(() => undefined);
  return outcome;
}

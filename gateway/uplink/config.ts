import { z } from 'zod';
import { brokerUrlSchema } from '../../protocol/brokerUrl.js';
import { resolveFrom } from '../../protocol/configFile.js';
import { maxEventsPerBatch } from '../../protocol/messages.js';

/**
 * The terminal's `central` section (DESIGN.md "Terminal configuration"): where the MQTT
 * broker is, how to log in, and how hard to push. Without it the terminal runs offline.
 */

export const uplinkConfigSchema = z
  .strictObject({
    url: brokerUrlSchema.optional().describe('the broker, `mqtt://host:port` or `mqtts://host:port`; or `urls` for several'),
    urls: z
      .array(brokerUrlSchema)
      .min(1)
      .max(16)
      .optional()
      .describe('several central nodes (docs/scale-out.md), instead of `url`: after a failed attempt or a lost connection the terminal tries the next one, with backoff and jitter'),
    username: z.string().min(1).max(256).describe("the terminal's MQTT username: its terminal id"),
    password: z.string().min(1).max(1024).describe("the terminal's secret, written by `terminals add` or enrollment"),
    ca: z.string().min(1).optional().describe("PEM file of the CA that signed the broker's certificate (mqtts only); relative to the config file's folder"),
    cert: z.string().min(1).optional().describe('client certificate PEM file (mqtts only), with `key`'),
    key: z.string().min(1).optional().describe('client key PEM file (mqtts only), with `cert`'),
    rejectUnauthorized: z.boolean().default(true).describe('only for a lab broker with a self-signed certificate: false accepts any server'),
    batchSize: z.number().int().min(1).max(maxEventsPerBatch).default(100).describe('events per `…/events` publish'),
    // Through a third-party broker a PUBACK gives no backpressure (DESIGN.md "A PUBACK is
    // not a receipt"), so this is the bound; with `receipts` a batch counts until its receipt.
    maxInFlightBatches: z.number().int().min(1).max(64).default(4).describe('batches published and not yet acknowledged (with `receipts`: not yet receipted)'),
    receipts: z
      .boolean()
      .default(false)
      .describe(
        "delete outbox rows only on the central store's receipt (`…/receipts`), not on the broker's PUBACK: required behind a third-party broker (Mosquitto, EMQX with `qrgate ingest`); our own central stores before its PUBACK and needs none",
      ),
    receiptTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(600_000)
      // Long enough for a whole fleet's window to pass through a loaded worker: at 200
      // terminals x 400 events in flight and ~1,600 events/s (bench e2e under load) a batch
      // waited ~50 s for its turn, and 30 s sent 15 % of everything twice.
      .default(120_000)
      .describe('with `receipts`: no receipt for this long while events wait for one, and they are sent again, ms; doubles per fruitless resend, up to 4 times'),
    telemetryIntervalMs: z.number().int().min(1000).max(3_600_000).default(30_000).describe('how often the terminal reports its state (lists, outbox, scanners, clock), ms'),
    reconnectMinMs: z.number().int().min(50).max(600_000).default(500).describe('the first reconnect wait, ms; it doubles per failed attempt, with full jitter'),
    reconnectMaxMs: z.number().int().min(50).max(3_600_000).default(30_000).describe('the longest reconnect wait, ms'),
    keepaliveS: z.number().int().min(5).max(65_535).default(30).describe('MQTT keep-alive, s: a silently dead link is noticed within 1.5 times this'),
  })
  // Runs even when other fields are bad, so one pass names every problem (found by
  // fast-check: a bad `key` hid reconnectMaxMs below reconnectMinMs). The value may be only
  // partly valid here, hence the defensive reads.
  .superRefine(
    (value, ctx) => {
      const central = (value ?? {}) as Partial<Record<keyof typeof value, unknown>>;
      const { reconnectMinMs: minMs, reconnectMaxMs: maxMs } = central;
      if (typeof minMs === 'number' && typeof maxMs === 'number' && maxMs < minMs) {
        ctx.addIssue({ code: 'custom', path: ['reconnectMaxMs'], message: 'must be at least reconnectMinMs' });
      }
      // A cert or key of the wrong type is reported by itself, not as a missing partner.
      const paired = [central.cert, central.key].every((file) => file === undefined || typeof file === 'string');
      if (paired && (central.cert === undefined) !== (central.key === undefined)) {
        ctx.addIssue({ code: 'custom', path: [central.cert === undefined ? 'cert' : 'key'], message: 'a client certificate needs both "cert" and "key"' });
      }
      if (central.url === undefined && central.urls === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'where is the central? give "url" (or "urls" for several nodes)' });
      if (central.url !== undefined && central.urls !== undefined) ctx.addIssue({ code: 'custom', path: ['urls'], message: 'give "url" or "urls", not both' });
      // An unreadable url is reported by itself; only a readable non-TLS one makes TLS files wrong.
      const urls = [central.url, ...(Array.isArray(central.urls) ? central.urls : [])].filter((url): url is string => typeof url === 'string');
      if (!urls.some((url) => !url.startsWith('mqtts:'))) return;
      for (const field of ['ca', 'cert', 'key'] as const) {
        if (central[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'TLS files need an mqtts:// url' });
      }
    },
    { when: () => true },
  );

export type UplinkConfig = z.output<typeof uplinkConfigSchema>;

/** The brokers to try, in config order: `urls`, or the one `url`. Never empty for a parsed config. */
export function brokerUrls(config: Pick<UplinkConfig, 'url' | 'urls'>): readonly string[] {
  return config.urls ?? (config.url === undefined ? [] : [config.url]);
}

/** The TLS file paths made absolute against the config file, like every other path. */
export function resolveUplinkPaths(configFile: string, central: UplinkConfig): UplinkConfig {
  const resolve = (path: string | undefined) => (path === undefined ? undefined : resolveFrom(configFile, path));
  return { ...central, ca: resolve(central.ca), cert: resolve(central.cert), key: resolve(central.key) };
}

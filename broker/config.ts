import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { deepFreeze, loadJsonConfig, resolveFrom } from '../protocol/configFile.js';
import type { Logger } from '../protocol/logger.js';
import { defaultGroupMaxEvents } from './ingestion/groupCommitter.js';
import type { CentralStore } from './store/centralStore.js';

/**
 * The central's configuration (DESIGN.md "Central configuration"). Objects are strict so a
 * misspelt field is reported instead of silently falling back to its default; every bad
 * field is named in one pass (protocol/configFile.ts).
 */

/** 0 asks the OS for a free port; `central.ready` logs the one it chose. */
const portSchema = z.number().int().min(0).max(65_535);
const hostSchema = z.string().min(1);
const pathSchema = z.string().min(1);

/**
 * The largest `…/events` batch (protocol/messages.ts maxEventsPerBatch = 200 events of
 * roughly 600 bytes of JSON each) is about 120 KiB; 256 KiB leaves room without letting a
 * client park megabytes in the parser. mqtt-packet buffers a whole packet before aedes sees
 * it, so this is the bound on per-connection read memory (broker/mqtt/packetSizeGuard.ts).
 */
export const defaultMaxPacketBytes = 256 * 1024;

export const authFailuresSchema = z.strictObject({
  /** Failures a source may have within `windowMs` before its refusals wait: a typo or a freshly rotated secret costs nothing. */
  freeFailures: z.number().int().min(0).max(1000).default(5),
  /** Wait of the first held-back refusal, ms; doubled by each further failure. */
  baseDelayMs: z.number().int().min(1).max(60_000).default(500),
  /** The longest a refusal waits, ms. */
  maxDelayMs: z.number().int().min(1).max(300_000).default(30_000),
  /** Quiet time after which a source starts from zero; also how often `auth.throttled` names a source that keeps failing, ms. */
  windowMs: z.number().int().min(1000).max(86_400_000).default(900_000),
  /** Sources (addresses and usernames) remembered at once, about 200 bytes each; the least recently failing is forgotten first. */
  maxSources: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Refusals held back at once; a further failing connection is closed without CONNACK. */
  maxPendingRefusals: z.number().int().min(0).max(100_000).default(256),
});

const mqttSchema = z.strictObject({
  host: hostSchema.default('0.0.0.0'),
  port: portSchema.default(1883),
  tls: z
    .strictObject({
      port: portSchema.default(8883),
      /** PEM certificate chain and private key; relative paths resolve against the config file. */
      cert: pathSchema,
      key: pathSchema,
    })
    .optional(),
  /** Largest MQTT packet accepted (fixed header + remaining length), bytes. A bigger one closes the connection. */
  maxPacketBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(defaultMaxPacketBytes),
  /** Open connections per listener; further ones are refused by the OS-level accept. */
  maxConnections: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Packets a client may pipeline before its CONNACK; more closes it (aedes `queueLimit`). */
  queueLimit: z.number().int().min(1).max(1000).default(42),
  /** A client whose socket stays unwritable this long is dropped (aedes `drainTimeout`), ms. */
  drainTimeoutMs: z.number().int().min(1000).max(600_000).default(30_000),
  /** Time from TCP accept to CONNECT before the socket is closed (aedes `connectTimeout`), ms. */
  connectTimeoutMs: z.number().int().min(1000).max(120_000).default(10_000),
  /** Repeated CONNECT failures from one address or for one username are refused ever more slowly (broker/auth/failureThrottle.ts). */
  authFailures: authFailuresSchema.default(() => authFailuresSchema.parse({})),
});

/** Browser sessions (broker/access/sessions.ts): idle and absolute lifetimes, as access-control consoles set them. */
const sessionsSchema = z.strictObject({
  /** A session unused this long ends, minutes. */
  idleMinutes: z.number().int().min(1).max(24 * 60).default(30),
  /** A session ends this long after login whatever happens, hours. */
  absoluteHours: z.number().int().min(1).max(7 * 24).default(12),
});

const httpSchema = z.strictObject({
  host: hostSchema.default('127.0.0.1'),
  port: portSchema.default(8080),
  /** HTTPS with this PEM certificate chain and key; session cookies are then Secure. */
  tls: z.strictObject({ cert: pathSchema, key: pathSchema }).optional(),
  /** Mark session cookies Secure without serving TLS here: for a central behind a TLS-terminating proxy. */
  secureCookies: z.boolean().default(false),
  /** Take the client address from X-Forwarded-For (only behind a proxy you run: anyone can send the header). */
  trustProxy: z.boolean().default(false),
  sessions: sessionsSchema.default(() => sessionsSchema.parse({})),
  /** Requests per minute per address to the open routes (the inspectors' lookup, the login form). */
  publicLookupsPerMinute: z.number().int().min(1).max(100_000).default(60),
  /** Failed logins slowed per username and per address, as MQTT CONNECTs are (broker/auth/failureThrottle.ts). */
  loginFailures: authFailuresSchema.default(() => authFailuresSchema.parse({})),
});

/**
 * How long scan events are kept, days (docs/security.md "How long scans are kept"). 35 by
 * default: the console's longest window (30 days) stays whole, and a calendar month can still
 * be exported in the first days of the next. null keeps them for ever.
 */
export const defaultRetentionDays = 35;
const retentionDaysSchema = z.number().int().min(1).max(3650).nullable().default(defaultRetentionDays);

const storeSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sqlite'), retentionDays: retentionDaysSchema }),
  z.strictObject({
    type: z.literal('postgres'),
    url: z.string().min(1),
    /**
     * The schema the central's tables live in (default `public`), created if missing: several
     * deployments, or a deployment and its staging copy, can share one database.
     */
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'expected lower-case letters, digits and _, starting with a letter or _' })
      .default('public'),
    retentionDays: retentionDaysSchema,
  }),
]);

const ingestSchema = z.strictObject({
  /**
   * How long the group committer waits for more publishes before one `insertEvents`, ms.
   * Every PUBACK for `…/events` waits for its commit, so this is added to each ack.
   */
  commitDelayMs: z.number().int().min(0).max(1000).default(5),
  /** A commit starts early once this many events are waiting (see defaultGroupMaxEvents). */
  commitMaxEvents: z.number().int().min(1).max(20_000).default(defaultGroupMaxEvents),
});

const metricsSchema = z.strictObject({
  /**
   * Adds a `checkpoint` label (the 14-digit code) to `qrgate_scans_total`. Off by default:
   * it multiplies the series by the number of checkpoints (broker/ingestion/scanCounter.ts).
   */
  perCheckpoint: z.boolean().default(false),
});

/** Who is inside now (issue 14 page 5, docs/central.md). */
const insideSchema = z.strictObject({
  /**
   * An entry no exit ever closed (a forgotten scan, a tailgated exit) stops counting as
   * inside this long after it, hours: 24 by default, as access-control consoles do.
   */
  expiryHours: z.number().int().min(1).max(30 * 24).default(24),
});
/**
 * When the overview raises an alarm (broker/alarms/alarms.ts, docs/central.md "Alarms"). The
 * defaults are issue 14's: a terminal silent for 5 minutes, a list expiring within 24 hours.
 */
export const alarmsSchema = z.strictObject({
  /** A terminal disconnected and silent this long is an alarm, seconds. Short enough to act, long enough to ride out a reconnect. */
  offlineAfterS: z.number().int().min(1).max(7 * 86_400).default(300),
  /** A list expiring within this many hours is an alarm (a terminal past its list's expiry applies its stale-list policy). */
  listExpiryWarningHours: z.number().min(0).max(30 * 24).default(24),
  /** A terminal still running an older list this long after a newer version was published is an alarm, seconds: a sync takes a moment. */
  listLagAfterS: z.number().int().min(0).max(7 * 86_400).default(600),
});
export type AlarmThresholds = z.output<typeof alarmsSchema>;

/**
 * A node's name in the cluster: aedes's broker id (it keys the node's wills and in-flight
 * packets in Redis, so it must stay the same across restarts: a random one leaves the
 * dead one's keys behind, aedes-persistence-redis issue #73), the `node` of every log line,
 * and the holder the fleet shows for each terminal.
 */
export const nodeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 63 characters');

/** `redis://` or `rediss://` (TLS), with an optional `/db` number; a password in it is never logged. */
export const redisUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a URL (expected redis://host:port or rediss://host:port)' });
    return;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') ctx.addIssue({ code: 'custom', message: `protocol must be redis: or rediss:, got ${url.protocol}` });
  if (!url.hostname) ctx.addIssue({ code: 'custom', message: 'no host' });
  if (url.pathname && url.pathname !== '/' && !/^\/\d{1,2}$/.test(url.pathname)) ctx.addIssue({ code: 'custom', message: 'the path may only be a database number, e.g. /0' });
});

/**
 * Several centrals behind one name (docs/scale-out.md): MQTT state shared through Redis
 * (mqemitter-redis, aedes-persistence-redis), everything else through the PostgreSQL store.
 */
export const clusterSchema = z.strictObject({
  redisUrl: redisUrlSchema,
  /** Defaults to the machine's host name: one central per machine is what an operator runs. */
  nodeId: nodeIdSchema.default(() => defaultNodeId()),
  /**
   * Put before every Redis key and pub/sub channel of this deployment, so one Redis can
   * serve several (or a test suite's parallel files) without mixing them. Redis pub/sub
   * ignores the database number, so a separate `/db` alone does not separate deployments.
   */
  keyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'letters, digits, ".", "_", ":" or "-", at most 64 characters (no glob characters: it starts a pub/sub pattern)')
    .default('qrgate:'),
});

/** The host name cut to what nodeIdSchema accepts; "central" if nothing usable is left. */
export function defaultNodeId(name: string = hostname()): string {
  const cleaned = name.split('.')[0]!.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return cleaned === '' ? 'central' : cleaned;
}

export type ClusterConfig = z.output<typeof clusterSchema>;

export const centralConfigSchema = z.strictObject({
  dataDir: pathSchema,
  mqtt: mqttSchema.default(() => mqttSchema.parse({})),
  http: httpSchema.default(() => httpSchema.parse({})),
  store: storeSchema.default(() => storeSchema.parse({ type: 'sqlite' })),
  keys: z.strictObject({ authorityKey: pathSchema, refKey: pathSchema }),
  ingest: ingestSchema.default(() => ingestSchema.parse({})),
  metrics: metricsSchema.default(() => metricsSchema.parse({})),
  inside: insideSchema.default(() => insideSchema.parse({})),
  alarms: alarmsSchema.default(() => alarmsSchema.parse({})),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') }).optional(),
  /**
   * Terminals behind Mosquitto (docs/mosquitto.md): `out` is where `qrgate mosquitto-config`
   * writes Mosquitto's password and ACL files, rewritten by `terminals add | remove |
   * rotate-secret` after each change. Mosquitto still has to be reloaded to apply them.
   */
  mosquitto: z.strictObject({ out: pathSchema }).optional(),
  /** Several centrals sharing one PostgreSQL store and one Redis (docs/scale-out.md); without it, one central alone. */
  cluster: clusterSchema.optional(),
  /**
   * Interoperability testing only: clients without a username are admitted with full
   * access. Logged loudly at start (`central.lab-mode`).
   */
  lab: z.boolean().default(false),
})
  // Two SQLite files are two stores: each node would hold half the events and its own
  // registry. Runs even when other fields are bad, so one pass names every problem.
  .superRefine(
    (value, ctx) => {
      const config = (value ?? {}) as { cluster?: unknown; store?: { type?: unknown } };
      if (config.cluster !== undefined && config.store?.type !== 'postgres') {
        ctx.addIssue({ code: 'custom', path: ['cluster'], message: 'several nodes need one shared store: set store.type "postgres" (docs/scale-out.md)' });
      }
    },
    { when: () => true },
  );

export type CentralConfigInput = z.input<typeof centralConfigSchema>;
type ParsedCentralConfig = z.output<typeof centralConfigSchema>;

export interface CentralConfig extends ParsedCentralConfig {
  /** The file it was read from; every relative path in it is already resolved against its folder. */
  readonly file: string;
}

export type CentralMqttConfig = CentralConfig['mqtt'];

/** The SQLite file inside `dataDir`. */
export const centralDbFileName = 'central.db';

/** Resolves relative paths against `file`'s folder and freezes the result. */
export function resolveCentralConfig(file: string, parsed: ParsedCentralConfig): CentralConfig {
  const mqtt = parsed.mqtt;
  return deepFreeze({
    ...parsed,
    file,
    dataDir: resolveFrom(file, parsed.dataDir),
    mqtt: mqtt.tls ? { ...mqtt, tls: { ...mqtt.tls, cert: resolveFrom(file, mqtt.tls.cert), key: resolveFrom(file, mqtt.tls.key) } } : mqtt,
    http: parsed.http.tls ? { ...parsed.http, tls: { cert: resolveFrom(file, parsed.http.tls.cert), key: resolveFrom(file, parsed.http.tls.key) } } : parsed.http,
    keys: { authorityKey: resolveFrom(file, parsed.keys.authorityKey), refKey: resolveFrom(file, parsed.keys.refKey) },
    ...(parsed.mosquitto ? { mosquitto: { out: resolveFrom(file, parsed.mosquitto.out) } } : {}),
  });
}

/** Reads and validates a central config; throws ConfigError naming every bad field. */
export function loadCentralConfig(file: string): CentralConfig {
  return resolveCentralConfig(file, loadJsonConfig(file, centralConfigSchema));
}

/** A store the config names but this build cannot open. */
export class StoreUnavailableError extends Error {
  readonly code = 'store-unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Where the store's SQLite calls run. `worker`: a thread of their own, for the services
 * (`qrgate central`, `qrgate ingest`) whose event loop carries MQTT and HTTP (DESIGN.md
 * "Storage"). `caller`: the calling thread, for one-shot commands with no loop to protect
 * and no reason to pay a thread's start-up. PostgreSQL is networked: its calls never block.
 */
export type StoreThread = 'worker' | 'caller';

/**
 * Opens and migrates the store the config names: the central, `checkpoints create` and
 * `terminals add` all go through here, so they always agree on where the data lives. The
 * registry beside it opens from the same config (broker/registry/registryDb.ts openRegistry).
 */
export async function openCentralStore(
  config: CentralConfig,
  deps: { readonly logger: Logger },
  options: { readonly thread?: StoreThread } = {},
): Promise<CentralStore> {
  return createCentralStore(config, deps, options);
}

/**
 * Builds and migrates either store from a config, PostgreSQL included: for code that uses
 * CentralStore alone (the contract tests, `bench store`), never for a whole central.
 */
export async function createCentralStore(
  config: Pick<CentralConfig, 'store' | 'dataDir'>,
  deps: { readonly logger: Logger },
  options: { readonly thread?: StoreThread } = {},
): Promise<CentralStore> {
  // Each implementation is loaded on demand: a SQLite central never loads pg, and code that
  // only needs the config (the broker's own tests) loads neither.
  let store: CentralStore;
  if (config.store.type === 'postgres') {
    const { PostgresCentralStore } = await import('./store/postgres/pgStore.js');
    store = new PostgresCentralStore({ url: config.store.url, schema: config.store.schema, logger: deps.logger });
  } else {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const file = join(config.dataDir, centralDbFileName);
    store =
      (options.thread ?? 'worker') === 'worker'
        ? new (await import('./store/worker/workerCentralStore.js')).WorkerCentralStore({ file, logger: deps.logger })
        : new (await import('./store/sqliteStore.js')).SqliteCentralStore({ file, logger: deps.logger });
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/** Opens the store in the calling thread, runs `work`, and closes the store whatever happens: for one-shot commands. */
export async function withCentralStore<T>(config: CentralConfig, deps: { readonly logger: Logger }, work: (store: CentralStore) => Promise<T>): Promise<T> {
  const store = await openCentralStore(config, deps, { thread: 'caller' });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

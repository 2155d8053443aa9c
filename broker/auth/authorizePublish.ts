import type { Client, PublishPacket } from 'aedes';
import { enrollRequestSchema, type EnrollmentQr } from '../../protocol/enrollment.js';
import type { Logger } from '../../protocol/logger.js';
import { parseTopic } from '../../protocol/topics.js';
import type { CommandAcks } from '../commands/commandAcks.js';
import type { PendingScans } from '../guard/pendingScans.js';
import type { Ingestion, Routing } from '../ingestion/ingestion.js';
import { validateStatus, type TopicIdentity } from '../ingestion/validate.js';
import type { AckOrder } from '../mqtt/ackOrder.js';
import type { BrokerMetrics } from '../mqtt/brokerMetrics.js';
import type { TerminalHolders } from '../mqtt/terminalHolders.js';
import { dropPublish } from '../mqtt/dropPublish.js';
import { printable } from '../mqtt/printable.js';
import { authorizedPublishTopic, type Principal } from './acl.js';
import type { Sessions } from './sessions.js';

/**
 * aedes `authorizePublish`: the ACL, then ingestion. This is the hook that runs BEFORE
 * aedes writes the PUBACK (lib/handlers/publish.js runs `authorizePublish` then
 * `enqueuePublish`, which writes the PUBACK and only then publishes and calls `published`),
 * so a terminal's `…/events` batch is acknowledged only once it is in the store (DESIGN.md
 * "A PUBACK is not a receipt").
 *
 * Outcomes, in MQTT 3.1.1 terms:
 *   - allowed and ingested or routed: callback() -> PUBACK, message routed
 *   - outside the ACL, malformed, or stored events: rewritten by dropPublish, callback() ->
 *     PUBACK, nothing delivered or retained [MQTT-3.3.5-2] (acknowledge, do not carry out)
 *   - the store failed: callback(error) -> no PUBACK, aedes closes the connection, and the
 *     terminal sends the batch again after reconnecting
 */

export interface AuthorizePublishDeps {
  readonly sessions: Sessions;
  readonly ingestion: Ingestion;
  readonly ackOrder: AckOrder<Client>;
  readonly metrics: BrokerMetrics;
  readonly logger: Logger;
  /** Keeps the scans pending at manual-confirm lanes (the guard screen); without it they are dropped. */
  readonly pending?: PendingScans;
  /** Records terminals' command acks on the queued commands (broker/commands); without it they are only routed. */
  readonly commandAcks?: CommandAcks;
  /** Answers an enrolling device on its result topic (broker/enrollment); absent, no device is admitted to ask. */
  readonly enroll?: (clientId: string, qr: EnrollmentQr) => Promise<void>;
  /** In a cluster: which node holds each terminal, so an offline status from a node that lost it is dropped (broker/mqtt/terminalHolders.ts). */
  readonly holders?: Pick<TerminalHolders, 'outdated' | 'nodeId'>;
}

type Callback = (error?: Error | null) => void;

export function createAuthorizePublish(deps: AuthorizePublishDeps) {
  const { sessions, ingestion, metrics, logger } = deps;
  /** Clients already warned about: a broken terminal retrying a bad topic must not flood the log. */
  const warned = new WeakSet<Client>();

  function refuse(client: Client | null, packet: PublishPacket, why: string): Routing {
    metrics.publishRefused.inc();
    const line = { clientId: client ? printable(client.id) : null, topic: printable(packet.topic), why };
    if (client && warned.has(client)) logger.debug(line, 'mqtt.publish-refused');
    else {
      if (client) warned.add(client);
      logger.warn(line, 'mqtt.publish-refused');
    }
    return 'drop';
  }

  /**
   * `client === null`: aedes publishing a will it restored from persistence after the
   * client's broker went away. Only a terminal's offline status is believable there.
   */
  function routeOrphanWill(packet: PublishPacket): Promise<Routing> {
    const parsed = parseTopic(packet.topic);
    if (parsed?.kind !== 'status') return Promise.resolve(refuse(null, packet, 'will without a client outside a status topic'));
    // The node that stored the will, which died: aedes-persistence-redis keeps it on the packet.
    const brokerId = (packet as PublishPacket & { brokerId?: unknown }).brokerId;
    return status(parsed, packet, typeof brokerId === 'string' ? brokerId : undefined, { offlineOnly: true });
  }

  /**
   * A status, unless it says offline and was published on a node that no longer holds the
   * terminal (a cluster only): the terminal is connected elsewhere, so that news is old.
   * Dropped, not refused: it is acknowledged, retained nowhere and recorded nowhere.
   */
  async function status(parsed: TopicIdentity, packet: PublishPacket, publisherNode: string | undefined, options: { readonly offlineOnly?: boolean } = {}): Promise<Routing> {
    const holders = deps.holders;
    if (holders !== undefined) {
      const said = validateStatus(packet.payload);
      if (said.ok && said.value.state === 'offline' && (await holders.outdated(parsed.terminalId, publisherNode))) {
        logger.info({ terminalId: parsed.terminalId, publisherNode }, 'cluster.status-outdated');
        return 'drop';
      }
    }
    return ingestion.status(parsed, packet.payload, options);
  }

  /** The answer goes to the device's own result topic; the request itself is for nobody. */
  function enrollRequest(client: Client, principal: Principal, packet: PublishPacket): Promise<Routing> {
    if (principal.kind !== 'enroll' || deps.enroll === undefined) return Promise.resolve(refuse(client, packet, 'enrollment not available'));
    let request: unknown;
    try {
      request = JSON.parse(packet.payload.toString('utf8'));
    } catch {
      request = undefined;
    }
    if (!enrollRequestSchema.safeParse(request).success) return Promise.resolve(refuse(client, packet, 'malformed enrollment request'));
    deps.enroll(principal.clientId, principal.qr).catch((err: unknown) => logger.error({ err, clientId: principal.clientId }, 'enroll.answer-failed'));
    return Promise.resolve('drop');
  }

  function route(client: Client, packet: PublishPacket): Promise<Routing> {
    const principal = sessions.principal(client);
    if (principal === undefined) return Promise.reject(new Error('publish from a client that has not authenticated'));
    const parsed = authorizedPublishTopic(principal, packet.topic);
    if (parsed === null) return Promise.resolve(refuse(client, packet, 'outside the client ACL'));
    switch (parsed.kind) {
      case 'events':
        return ingestion.events(parsed, packet.payload);
      case 'status':
        return status(parsed, packet, deps.holders?.nodeId);
      case 'telemetry':
        return ingestion.telemetry(parsed, packet.payload);
      case 'pending':
        // Routed like status and telemetry (only a lab client or the central's own workers may
        // subscribe there); a malformed one is counted and dropped.
        return Promise.resolve(deps.pending?.accept(parsed, packet.payload) === false ? 'drop' : 'forward');
      case 'cmd-acks':
        return deps.commandAcks?.accept(parsed, packet.payload) ?? Promise.resolve('forward');
      case 'enroll-request':
        return enrollRequest(client, principal, packet);
      default:
        // Only a lab client gets here (commands, lists, any other topic): plain routing.
        return Promise.resolve('forward');
    }
  }

  return (client: Client | null, packet: PublishPacket, callback: Callback): void => {
    const routing = client === null ? routeOrphanWill(packet) : route(client, packet);
    const verdict = routing.then((how): null => {
      if (how === 'drop') dropPublish(packet);
      return null;
    });
    if (client === null) {
      verdict.then(callback, callback);
      return;
    }
    deps.ackOrder.enqueue(client, verdict, (error) => {
      if (error) logger.warn({ err: error, clientId: printable(client.id) }, 'mqtt.publish-not-acknowledged');
      callback(error);
    });
  };
}

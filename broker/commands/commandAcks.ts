import type { Logger } from '../../protocol/logger.js';
import { commandAckSchema } from '../../protocol/messages.js';
import type { Routing } from '../ingestion/ingestion.js';
import type { TopicIdentity } from '../ingestion/validate.js';
import type { CounterLike } from '../metricTypes.js';
import type { CentralStore } from '../store/centralStore.js';

export interface CommandAcksDeps {
  readonly store: Pick<CentralStore, 'acknowledgeCommand'>;
  readonly logger: Logger;
  /** Counts payloads that failed validation (qrgate_messages_malformed_total). */
  readonly malformed?: CounterLike;
  readonly now?: () => number;
}

/**
 * A terminal's `…/cmd-acks` (protocol/messages.ts commandAckSchema): what it did with a
 * command, recorded on the command's row so the queue stops sending it and `qrgate
 * terminals command` can say what happened. It arrives on the node the terminal is
 * connected to, which writes the shared store: no other node needs to hear it.
 *
 * Recorded before aedes acknowledges the publish (authorizePublish.ts), so the queue's next
 * poll already sees it. A failed write is logged and the message still acknowledged: the
 * command stays open, is sent again, and the terminal answers again with the same outcome.
 */
export class CommandAcks {
  constructor(private readonly deps: CommandAcksDeps) {}

  /** Never rejects: 'forward' for a well-formed ack (a lab client may watch them), 'drop' for a malformed one. */
  async accept(identity: TopicIdentity, payload: Buffer | string): Promise<Routing> {
    const { logger } = this.deps;
    let raw: unknown;
    try {
      raw = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    } catch {
      return this.malformed(identity, 'not JSON');
    }
    const parsed = commandAckSchema.safeParse(raw);
    if (!parsed.success) return this.malformed(identity, `schema: ${parsed.error.issues.length} issue(s) at ${parsed.error.issues[0]?.path.join('.') || '(top level)'}`);
    const ack = parsed.data;
    try {
      const recorded = await this.deps.store.acknowledgeCommand(identity.terminalId, ack, (this.deps.now ?? Date.now)());
      const line = { terminalId: identity.terminalId, id: ack.id, name: ack.name, outcome: ack.outcome, ...(ack.outcome === 'ignored' ? { reason: ack.reason } : {}) };
      // Not recorded: an answer to a copy sent again, or a command this store never queued (the guard screen's, sent directly).
      if (recorded) logger.info(line, 'command.acknowledged');
      else logger.debug(line, 'command.ack-unmatched');
    } catch (err) {
      logger.error({ err, terminalId: identity.terminalId, id: ack.id }, 'command.ack-record-failed');
    }
    return 'forward';
  }

  private malformed(identity: TopicIdentity, reason: string): Routing {
    this.deps.malformed?.inc();
    this.deps.logger.warn({ terminalId: identity.terminalId, kind: 'cmd-acks', reason }, 'ingest.malformed');
    return 'drop';
  }
}

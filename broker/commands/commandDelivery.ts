import type { Logger } from '../../protocol/logger.js';
import { maxOpenCommands, type CentralStore, type TerminalCommand } from '../store/centralStore.js';
import { commandEnvelope, type TerminalCommands } from '../guard/terminalCommands.js';
import { Poller } from '../poller.js';

export interface CommandDeliveryDeps {
  readonly store: Pick<CentralStore, 'openCommands' | 'commandSent'>;
  readonly commands: Pick<TerminalCommands, 'deliver'>;
  /**
   * The terminal's connection on THIS node that has subscribed to its commands, or null.
   * Any value that changes when the terminal reconnects (the aedes client object).
   */
  readonly subscriber: (terminalId: string) => object | null;
  readonly logger: Logger;
  /** How often the store is read for commands to deliver, ms. Default 300. */
  readonly pollMs?: number;
  /** A command not acknowledged this long after it was sent on a connection is sent again, ms. Default 5000. */
  readonly resendAfterMs?: number;
  readonly now?: () => number;
}

const defaultPollMs = 300;
const defaultResendAfterMs = 5_000;

/**
 * Delivers the command queue (issue 15 point 6): every central node runs one, reads the
 * store's open commands (not acknowledged, not expired) and publishes those whose terminal
 * is connected to it and subscribed to its commands. Nothing rides on a pub/sub between
 * nodes (Redis pub/sub may drop a message, redis#10862): the store is the queue, and the
 * terminal's ack on `…/cmd-acks` (commandAcks.ts) is what closes a command.
 *
 * A command is published again while no ack is recorded: on every new connection of its
 * terminal (a reconnect, or a move to another node), and `resendAfterMs` after the last
 * copy on the same connection. Every copy has the same id and expiry; the terminal runs a
 * command once and answers each copy with the first outcome. The store stops listing a
 * command once it expires, so an expired command is never sent.
 *
 * Lifecycle: start() polls; terminalReady() polls now (a terminal just subscribed);
 * stop() waits for a pass in progress and is safe twice. A failed pass is logged and the
 * next one tries again: nothing here may take the central down.
 */
export class CommandDelivery {
  private readonly poller: Poller;
  /** Per open command: the connection it was last published on, and when. Forgotten once it leaves the open list. */
  private readonly sent = new Map<string, { readonly connection: object; readonly atMs: number }>();
  /** A terminal subscribed while a pass was running: run another one right after it. */
  private again = false;

  constructor(private readonly deps: CommandDeliveryDeps) {
    const pass = () => this.pass().catch((err: unknown) => this.deps.logger.error({ err }, 'command.delivery-failed'));
    this.poller = new Poller(pass, deps.pollMs ?? defaultPollMs);
  }

  start(): void {
    this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** One pass now (or the one running, then one more): what waits for a terminal goes out as soon as it subscribes. */
  terminalReady(): void {
    if (this.poller.isStopped) return;
    this.again = true;
    void this.poller.poll();
  }

  /** One delivery pass; resolves when it is done. For tests and terminalReady. */
  async poll(): Promise<void> {
    await this.poller.poll();
  }

  private async pass(): Promise<void> {
    do {
      this.again = false;
      await this.deliverDue();
    } while (this.again && !this.poller.isStopped);
  }

  private async deliverDue(): Promise<void> {
    const nowMs = (this.deps.now ?? Date.now)();
    const open = await this.allOpen(nowMs);
    const stillOpen = new Set(open.map((c) => c.id));
    for (const id of this.sent.keys()) if (!stillOpen.has(id)) this.sent.delete(id);
    for (const command of open) {
      if (this.poller.isStopped) return;
      const connection = this.deps.subscriber(command.terminalId);
      if (connection === null) continue;
      const last = this.sent.get(command.id);
      if (last !== undefined && last.connection === connection && nowMs - last.atMs < (this.deps.resendAfterMs ?? defaultResendAfterMs)) continue;
      await this.send(command, connection, nowMs, last !== undefined);
    }
  }

  /**
   * Every open command, page by page: commands waiting for terminals that are offline (a
   * script pinging the whole fleet) must not hide those of terminals connected here.
   */
  private async allOpen(nowMs: number): Promise<TerminalCommand[]> {
    const open: TerminalCommand[] = [];
    for (;;) {
      const page = await this.deps.store.openCommands(nowMs, open.at(-1)?.id);
      open.push(...page);
      if (page.length < maxOpenCommands || this.poller.isStopped) return open;
    }
  }

  private async send(command: TerminalCommand, connection: object, nowMs: number, resend: boolean): Promise<void> {
    const { logger } = this.deps;
    const envelope = commandEnvelope({ id: command.id, issuedAtMs: Date.parse(command.issuedAt), expiresAtMs: Date.parse(command.expiresAt), fields: command.fields });
    try {
      await this.deps.commands.deliver(command, command.name, envelope);
    } catch (err) {
      logger.warn({ err, id: command.id, terminalId: command.terminalId }, 'command.send-failed');
      return;
    }
    this.sent.set(command.id, { connection, atMs: nowMs });
    await this.deps.store.commandSent(command.id, nowMs);
    logger.info({ id: command.id, name: command.name, terminalId: command.terminalId, attempt: command.attempts + 1, resend }, 'command.sent');
  }
}

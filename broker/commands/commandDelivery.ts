import type { Logger } from '../../protocol/logger.js';
import { maxOpenCommands, type CentralStore, type OpenCommandsFilter, type TerminalCommand } from '../store/centralStore.js';
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
 * What a poll between full reads looks at: commands issued this recently, by the clock of
 * the machine that queued them. Clocks differing by more are caught by the next full read.
 */
const recentWindowMs = 60_000;
/**
 * More terminals than this subscribed since the last pass: one read of every open command
 * serves them all. After a central restart the whole fleet subscribes within seconds, and one
 * store read per terminal was ten thousand reads where one does (docs/benchmarks.md,
 * "Reconnect storm").
 */
export const maxReadsPerTerminal = 8;

/**
 * Delivers the command queue (issue 15 point 6): every central node runs one, reads the
 * store's open commands (not acknowledged, not expired) and publishes those whose terminal
 * is connected to it and subscribed to its commands. Nothing rides on a pub/sub between
 * nodes (Redis pub/sub may drop a message, redis#10862): the store is the queue, and the
 * terminal's ack on `…/cmd-acks` (commandAcks.ts) is what closes a command.
 *
 * A command is published again while no ack is recorded: on every new connection of its
 * terminal (a reconnect, or a move to another node), and at the first full read at least
 * `resendAfterMs` after the last copy on the same connection (so within twice that). Every copy has the same id and expiry; the terminal runs a
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
  /** Terminals that subscribed since the last pass: their open commands go out in the next. */
  private readonly ready = new Set<string>();
  /** A terminal subscribed while a pass was running: run another one right after it. */
  private again = false;
  private lastFullPassMs = -Infinity;

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

  /** The terminal subscribed to its commands here: what waits for it goes out now (or right after the pass running). */
  terminalReady(terminalId: string): void {
    if (this.poller.isStopped) return;
    this.ready.add(terminalId);
    this.again = true;
    void this.poller.poll();
  }

  /** One delivery pass; resolves when it is done. For tests and terminalReady. */
  async poll(): Promise<void> {
    await this.poller.poll();
  }

  /**
   * Three reads of the store, from cheap to complete: the open commands of terminals that
   * just subscribed; on every poll, those issued within recentWindowMs (what is new); and
   * every resendAfterMs, all of them (copies due again, and anything the others missed).
   * Only the last reads every open command, so a fleet-wide script's commands waiting for
   * offline terminals cost one full read per resend interval, not one per poll. When more
   * than maxReadsPerTerminal terminals are waiting, the full read comes early and serves them.
   */
  private async pass(): Promise<void> {
    do {
      this.again = false;
      const nowMs = (this.deps.now ?? Date.now)();
      const ready = [...this.ready];
      this.ready.clear();
      const fullRead = ready.length > maxReadsPerTerminal || nowMs - this.lastFullPassMs >= this.resendAfterMs;
      if (!fullRead) for (const terminalId of ready) await this.deliver(await this.open(nowMs, { terminalId }), nowMs);
      if (fullRead) {
        this.lastFullPassMs = nowMs;
        const open = await this.open(nowMs, {});
        const stillOpen = new Set(open.map((c) => c.id));
        for (const id of this.sent.keys()) if (!stillOpen.has(id)) this.sent.delete(id);
        await this.deliver(open, nowMs);
      } else {
        await this.deliver(await this.open(nowMs, { issuedSinceMs: nowMs - recentWindowMs }), nowMs);
      }
    } while (this.again && !this.poller.isStopped);
  }

  private get resendAfterMs(): number {
    return this.deps.resendAfterMs ?? defaultResendAfterMs;
  }

  /** Every open command matching `filter`, page by page. */
  private async open(nowMs: number, filter: Omit<OpenCommandsFilter, 'afterId'>): Promise<TerminalCommand[]> {
    const open: TerminalCommand[] = [];
    for (;;) {
      const last = open.at(-1);
      const page = await this.deps.store.openCommands(nowMs, last === undefined ? filter : { ...filter, afterId: last.id });
      open.push(...page);
      if (page.length < maxOpenCommands || this.poller.isStopped) return open;
    }
  }

  /** Publishes each command whose terminal is subscribed here, unless sent on this connection less than resendAfterMs ago. */
  private async deliver(commands: readonly TerminalCommand[], nowMs: number): Promise<void> {
    for (const command of commands) {
      if (this.poller.isStopped) return;
      const connection = this.deps.subscriber(command.terminalId);
      if (connection === null) continue;
      const last = this.sent.get(command.id);
      if (last !== undefined && last.connection === connection && nowMs - last.atMs < this.resendAfterMs) continue;
      await this.send(command, connection, nowMs, last !== undefined);
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

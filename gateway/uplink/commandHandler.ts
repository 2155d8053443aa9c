import type { Logger } from 'pino';
import { commandNames, type Command, type CommandAck, type CommandName } from '../../protocol/messages.js';
import type { TerminalClock } from '../clock.js';
import { checkCommand, type IgnoreReason, type IncomingCommand } from './commandCheck.js';
import { InMemoryCommandMemory, type CommandMemory } from './commandMemory.js';
import type { UplinkLane } from './lanes.js';

export interface CommandHandlerDeps {
  readonly checkpointCode: string;
  readonly terminalId: string;
  readonly clock: TerminalClock;
  readonly lanes: readonly UplinkLane[];
  /** Publishes a heartbeat now; false when not connected. */
  readonly publishTelemetry: () => boolean;
  /** Asks for the list manifests again (`sync-lists`). */
  readonly syncLists: () => void;
  /**
   * Tells the central what became of a command (`…/cmd-acks`, fire and forget: offline it
   * is lost, and the central sends the command again until it is acknowledged or expires).
   */
  readonly publishAck: (ack: CommandAck) => void;
  /**
   * QoS 1 is at-least-once, and the central sends a command again until it hears an ack: a
   * redelivered `open` must not pulse the relay twice. Default: in memory (a restart forgets).
   */
  readonly memory?: CommandMemory;
  readonly logger: Logger;
}

const isCommandName = (name: string | null): name is CommandName => name !== null && (commandNames as readonly string[]).includes(name);

/**
 * Runs the central's commands (DESIGN.md "MQTT"; protocol/messages.ts commandSchema).
 * Whatever arrives, it logs and returns: a bad command never throws into the MQTT client.
 */
export class CommandHandler {
  /** Each recent command's id and the ack its first run earned, answered again to every copy. */
  private readonly memory: CommandMemory;
  /** The command being run: its id and name, for the ack of its outcome. */
  private running: { readonly id: string; readonly name: CommandName } | null = null;

  constructor(private readonly deps: CommandHandlerDeps) {
    this.memory = deps.memory ?? new InMemoryCommandMemory();
  }

  handle(message: IncomingCommand): void {
    const check = checkCommand(message, this.deps, this.deps.clock.now().ms);
    if (!check.ok) {
      this.ignored(check.reason, check.name, check.id);
      return;
    }
    const { name, command } = check;
    const earlier = this.memory.recall(command.id);
    if (earlier !== null) {
      this.deps.logger.warn({ reason: 'duplicate', name, id: command.id }, 'command.ignored');
      // The central sent it again because our first ack did not reach it: the same answer
      // again. Unanswered: the first run was cut short (a crash), and is not run again.
      this.send(earlier === 'unanswered' ? { v: 1, id: command.id, name, outcome: 'ignored', reason: 'duplicate', at: this.nowIso() } : earlier);
      return;
    }
    this.memory.claim(command.id);
    this.running = { id: command.id, name };
    try {
      this.run(name, command);
    } finally {
      this.running = null;
    }
  }

  private run(name: CommandName, command: Command): void {
    switch (name) {
      case 'open': {
        const lane = command.lane === undefined ? this.deps.lanes[0] : this.deps.lanes.find((l) => l.name === command.lane);
        if (!lane) {
          this.ignored('unknown-lane', name, command.id);
          return;
        }
        const event = lane.remoteOpen({ by: command.by, note: command.reason });
        if (!event) {
          this.ignored('lane-stopped', name, command.id);
          return;
        }
        this.deps.logger.info({ name, id: command.id, lane: lane.name, eventId: event.id, seq: event.seq }, 'command.executed');
        this.acknowledge({ outcome: 'executed', eventId: event.id });
        return;
      }
      case 'confirm':
      case 'reject': {
        if (command.pendingId === undefined) {
          this.ignored('malformed', name, command.id);
          return;
        }
        const lanes = command.lane === undefined ? this.deps.lanes : this.deps.lanes.filter((l) => l.name === command.lane);
        for (const lane of lanes) {
          const event = lane.answerPending(command.pendingId, name === 'confirm' ? 'granted' : 'refused', command.by);
          if (!event) continue;
          this.deps.logger.info({ name, id: command.id, lane: lane.name, pendingId: command.pendingId, eventId: event.id, seq: event.seq }, 'command.executed');
          this.acknowledge({ outcome: 'executed', eventId: event.id });
          return;
        }
        // Late (the gate's button or the timeout came first) or a second answer: the scan
        // was decided once already, and this answer changes nothing.
        this.ignored('not-pending', name, command.id, { pendingId: command.pendingId });
        return;
      }
      case 'ping': {
        const sent = this.deps.publishTelemetry();
        this.deps.logger.info({ name, id: command.id, sent }, 'command.executed');
        this.acknowledge({ outcome: 'executed' });
        return;
      }
      case 'sync-lists':
        this.deps.logger.info({ id: command.id }, 'lists.sync-requested');
        this.deps.syncLists();
        this.deps.logger.info({ name, id: command.id }, 'command.executed');
        this.acknowledge({ outcome: 'executed' });
        return;
    }
  }

  /**
   * Logs a command not run and, when it carried an id and a known name, acknowledges it as
   * ignored. Only a command being run is remembered: an expired one is never sent again, and
   * a malformed one has no id to answer.
   */
  private ignored(reason: IgnoreReason, name: string | null, id: string | null, extra: { pendingId?: string } = {}): void {
    this.deps.logger.warn({ reason, name, id, ...extra }, 'command.ignored');
    if (this.running !== null) this.acknowledge({ outcome: 'ignored', reason });
    else if (id !== null && isCommandName(name)) this.send({ v: 1, id, name, outcome: 'ignored', reason, at: this.nowIso() });
  }

  private acknowledge(outcome: { readonly outcome: 'executed'; readonly eventId?: string } | { readonly outcome: 'ignored'; readonly reason: IgnoreReason }): void {
    const running = this.running;
    if (running === null) return;
    const ack: CommandAck = { v: 1, id: running.id, name: running.name, at: this.nowIso(), ...outcome };
    this.memory.answer(ack);
    this.send(ack);
  }

  private send(ack: CommandAck): void {
    try {
      this.deps.publishAck(ack);
    } catch (err) {
      this.deps.logger.error({ err, id: ack.id }, 'command.ack-failed');
    }
  }

  private nowIso(): string {
    return new Date(this.deps.clock.now().ms).toISOString();
  }
}

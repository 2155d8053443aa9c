import type { Logger } from 'pino';
import type { TerminalClock } from '../clock.js';
import { checkCommand, type IgnoreReason, type IncomingCommand } from './commandCheck.js';
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
  readonly logger: Logger;
}

/** QoS 1 is at-least-once: a redelivered `open` must not pulse the relay twice. */
const REMEMBERED_IDS = 256;

/**
 * Runs the central's commands (DESIGN.md "MQTT"; protocol/messages.ts commandSchema).
 * Whatever arrives, it logs and returns: a bad command never throws into the MQTT client.
 */
export class CommandHandler {
  private readonly recentIds = new Set<string>();

  constructor(private readonly deps: CommandHandlerDeps) {}

  handle(message: IncomingCommand): void {
    const check = checkCommand(message, this.deps, this.deps.clock.now().ms);
    if (!check.ok) {
      this.ignored(check.reason, check.name, check.id);
      return;
    }
    const { name, command } = check;
    if (this.recentIds.has(command.id)) {
      this.ignored('duplicate', name, command.id);
      return;
    }
    this.remember(command.id);
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
        return;
      }
      case 'sync-lists':
        this.deps.logger.info({ id: command.id }, 'lists.sync-requested');
        this.deps.syncLists();
        this.deps.logger.info({ name, id: command.id }, 'command.executed');
        return;
    }
  }

  private ignored(reason: IgnoreReason, name: string | null, id: string | null, extra: { pendingId?: string } = {}): void {
    this.deps.logger.warn({ reason, name, id, ...extra }, 'command.ignored');
  }

  private remember(id: string): void {
    this.recentIds.add(id);
    if (this.recentIds.size > REMEMBERED_IDS) {
      const oldest = this.recentIds.values().next().value;
      if (oldest !== undefined) this.recentIds.delete(oldest);
    }
  }
}

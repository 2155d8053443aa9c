import { randomUUID } from 'node:crypto';
import type { Command, CommandName } from '../../protocol/messages.js';
import { commandTopic } from '../../protocol/topics.js';

/** Publishes one MQTT message, QoS 1, never retained; settles once the broker has taken it. */
export type CommandPublish = (topic: string, payload: Buffer) => Promise<void>;

/** What a command carries besides its name and envelope (protocol/messages.ts commandSchema). */
export type CommandFields = Pick<Command, 'lane' | 'pendingId' | 'by' | 'reason'>;

export interface SentCommand {
  readonly id: string;
  readonly terminalId: string;
  readonly name: CommandName;
}

/**
 * A command's life: long enough for a terminal on a slow link, short enough that one
 * stuck in a queue cannot open a gate long after the guard moved on.
 */
export const commandLifetimeMs = 30_000;

/**
 * The central's commands to a terminal (DESIGN.md "MQTT": never retained, with an expiry;
 * the terminal records each as an event). `publish` is the broker's own publish in the
 * central; without one (an API with no broker in its process) every send fails as such.
 */
export class TerminalCommands {
  constructor(
    private readonly deps: {
      readonly publish: CommandPublish | null;
      /** Whether the terminal is connected now; a command to one that is not would be lost (clean sessions). */
      readonly connected?: (terminalId: string) => boolean;
      readonly now?: () => number;
    },
  ) {}

  get available(): boolean {
    return this.deps.publish !== null;
  }

  /** Whether a command to the terminal would reach it now; null when this process cannot tell. */
  reachable(terminalId: string): boolean | null {
    if (this.deps.publish === null) return false;
    return this.deps.connected ? this.deps.connected(terminalId) : null;
  }

  async send(target: { readonly checkpointCode: string; readonly terminalId: string }, name: CommandName, fields: CommandFields): Promise<SentCommand> {
    const publish = this.deps.publish;
    if (publish === null) throw new NoBrokerError();
    if (this.deps.connected?.(target.terminalId) === false) throw new TerminalOfflineError(target.terminalId);
    const nowMs = (this.deps.now ?? Date.now)();
    const command = commandEnvelope({ id: randomUUID(), issuedAtMs: nowMs, expiresAtMs: nowMs + commandLifetimeMs, fields });
    await publish(commandTopic(target.checkpointCode, target.terminalId, name), Buffer.from(JSON.stringify(command)));
    return { id: command.id, terminalId: target.terminalId, name };
  }

  /**
   * Publishes a command whose envelope was fixed when it was queued (broker/commands): each
   * copy carries the same id and expiry, so the terminal runs it once however often it arrives.
   */
  async deliver(target: { readonly checkpointCode: string; readonly terminalId: string }, name: CommandName, command: Command): Promise<void> {
    const publish = this.deps.publish;
    if (publish === null) throw new NoBrokerError();
    await publish(commandTopic(target.checkpointCode, target.terminalId, name), Buffer.from(JSON.stringify(command)));
  }
}

/** The message a terminal receives on `…/cmd/{name}` (protocol/messages.ts commandSchema); absent fields are left out. */
export function commandEnvelope(command: { readonly id: string; readonly issuedAtMs: number; readonly expiresAtMs: number; readonly fields: CommandFields }): Command {
  return {
    v: 1,
    id: command.id,
    issuedAt: new Date(command.issuedAtMs).toISOString(),
    expiresAt: new Date(command.expiresAtMs).toISOString(),
    ...Object.fromEntries(Object.entries(command.fields).filter(([, value]) => value !== undefined)),
  };
}

export class TerminalOfflineError extends Error {
  readonly code = 'terminal-offline';
  constructor(readonly terminalId: string) {
    super(`terminal ${terminalId} is not connected: nothing was sent, and the gate's own buttons still decide`);
    this.name = 'TerminalOfflineError';
  }
}

export class NoBrokerError extends Error {
  readonly code = 'no-broker';
  constructor() {
    super('this process runs no MQTT broker, so it cannot reach terminals');
    this.name = 'NoBrokerError';
  }
}

import { commandNames, commandSchema, type Command, type CommandIgnoreReason, type CommandName } from '../../protocol/messages.js';
import { parseTopic } from '../../protocol/topics.js';

export interface IncomingCommand {
  readonly topic: string;
  readonly payload: Buffer;
  /** The PUBLISH packet's RETAIN flag as delivered to us. */
  readonly retain: boolean;
}

/** Why a command was not run (protocol/messages.ts commandIgnoreReasons). */
export type IgnoreReason = CommandIgnoreReason;

export type CommandCheck =
  | { readonly ok: true; readonly name: CommandName; readonly command: Command }
  | { readonly ok: false; readonly reason: IgnoreReason; readonly name: string | null; readonly id: string | null };

/** A command is a few hundred bytes; anything far larger is not one, and is not parsed. */
export const maxCommandBytes = 4096;

const isCommandName = (name: string): name is CommandName => (commandNames as readonly string[]).includes(name);

/**
 * Decides whether a message on our `cmd/#` may run, without running it. Pure: the clock
 * reading comes in. Order matters only for the reason reported; every check must pass.
 */
export function checkCommand(
  message: IncomingCommand,
  self: { readonly checkpointCode: string; readonly terminalId: string },
  nowMs: number,
): CommandCheck {
  const topic = parseTopic(message.topic);
  if (topic?.kind !== 'cmd' || topic.checkpointCode !== self.checkpointCode || topic.terminalId !== self.terminalId) {
    return { ok: false, reason: 'foreign-topic', name: null, id: null };
  }
  const name = topic.command.slice(0, 64);
  // STYLE.md habit 10: a retained `open` would reopen the gate after every reboot. The flag
  // is set exactly when the broker delivers a stored retained message [MQTT-3.3.1-8].
  if (message.retain) return { ok: false, reason: 'retained', name, id: null };
  if (!isCommandName(name)) return { ok: false, reason: 'unknown-command', name, id: null };
  if (message.payload.length > maxCommandBytes) return { ok: false, reason: 'too-large', name, id: null };
  let raw: unknown;
  try {
    raw = JSON.parse(message.payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed', name, id: null };
  }
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'malformed', name, id: null };
  const command = parsed.data;
  if (Date.parse(command.expiresAt) < nowMs) return { ok: false, reason: 'expired', name, id: command.id };
  return { ok: true, name, command };
}

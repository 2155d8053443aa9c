import { maxAnswererLength, maxNoteLength } from '../../protocol/event.js';
import type { CommandIgnoreReason } from '../../protocol/messages.js';
import { uuidv7 } from '../../protocol/uuidv7.js';
import { liveTerminal } from '../registry/terminalLifecycle.js';
import { TerminalProvisioningError } from '../registry/terminalProvisioning.js';
import type { CentralStore, TerminalCommand } from '../store/centralStore.js';

/**
 * Queuing a command for a terminal and reading what became of it (`qrgate terminals
 * command`, issue 15 point 6). The command goes into the store; every central node
 * delivers it to the terminal if it is connected there (commandDelivery.ts), so this runs
 * wherever the central's config and store are, with or without a central running.
 */

/** What an operator may send. `confirm` and `reject` answer one pending scan: the guard screen's. */
export const operatorCommands = ['open', 'ping', 'sync-lists'] as const;
export type OperatorCommand = (typeof operatorCommands)[number];

/** A command's default life, seconds: as the guard screen's (terminalCommands.ts commandLifetimeMs). */
export const defaultCommandTtlS = 30;
/**
 * The longest life of an `open`: a gate that opens long after it was asked surprises the
 * people standing at it. Other commands change nothing at the gate and may wait a day for
 * a terminal to come back.
 */
export const maxOpenTtlS = 600;
export const maxCommandTtlS = 86_400;

export interface CommandRequest {
  readonly terminalId: string;
  readonly name: OperatorCommand;
  /** `open` only: the lane whose relay pulses; the terminal's first lane without it. */
  readonly lane?: string;
  /** Why, recorded in the audit log and, for `open`, in the event as its note. */
  readonly reason?: string;
  readonly ttlS: number;
  /** Who asks, as the audit log names actors (`cli:root`); recorded in the event as `answeredBy`. */
  readonly issuedBy: string;
}

export type CommandRequestProblem = 'invalid-command' | 'invalid-lane' | 'invalid-reason' | 'invalid-ttl';

export class CommandRequestError extends Error {
  constructor(
    readonly code: CommandRequestProblem,
    message: string,
  ) {
    super(message);
    this.name = 'CommandRequestError';
  }
}

/** Refuses what the terminal would refuse anyway, before anything is written. */
function check(request: CommandRequest): void {
  if (!(operatorCommands as readonly string[]).includes(request.name)) {
    throw new CommandRequestError('invalid-command', `unknown command "${request.name}": one of ${operatorCommands.join(', ')}`);
  }
  if (request.lane !== undefined && request.name !== 'open') throw new CommandRequestError('invalid-lane', '--lane goes with open only');
  if (request.lane !== undefined && (request.lane.length === 0 || request.lane.length > 32)) throw new CommandRequestError('invalid-lane', 'a lane name has 1 to 32 characters');
  if (request.reason !== undefined && (request.reason.trim().length === 0 || request.reason.length > maxNoteLength)) {
    throw new CommandRequestError('invalid-reason', `a reason has 1 to ${maxNoteLength} characters`);
  }
  const maxTtlS = request.name === 'open' ? maxOpenTtlS : maxCommandTtlS;
  if (!Number.isInteger(request.ttlS) || request.ttlS < 1 || request.ttlS > maxTtlS) {
    throw new CommandRequestError('invalid-ttl', `--ttl for ${request.name} is 1 to ${maxTtlS} seconds${request.name === 'open' ? ': a gate opening long after it was asked surprises the people at it' : ''}`);
  }
}

/**
 * Queues the command for a live terminal: an unknown or removed terminal, or one whose
 * checkpoint was retired, is refused by name (TerminalProvisioningError), since nothing
 * could ever deliver to it.
 */
export async function queueTerminalCommand(
  store: Pick<CentralStore, 'getTerminalCredentials' | 'getCheckpoint' | 'queueCommand' | 'getCommand'>,
  request: CommandRequest,
  nowMs: number = Date.now(),
): Promise<TerminalCommand> {
  check(request);
  const terminal = await liveTerminal(store, request.terminalId);
  const checkpoint = await store.getCheckpoint(terminal.checkpointCode);
  if (checkpoint === null || checkpoint.retiredAt !== null) {
    throw new TerminalProvisioningError('checkpoint-retired', `terminal ${terminal.terminalId}'s checkpoint ${terminal.checkpointCode} was retired: it is refused and cannot receive commands`);
  }
  // Time-ordered: the store lists open commands by id, so by id is the order they were issued.
  const id = uuidv7(nowMs);
  await store.queueCommand({
    id,
    terminalId: terminal.terminalId,
    checkpointCode: terminal.checkpointCode,
    name: request.name,
    fields: {
      ...(request.lane === undefined ? {} : { lane: request.lane }),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      by: request.issuedBy.slice(0, maxAnswererLength),
    },
    issuedAtMs: nowMs,
    expiresAtMs: nowMs + request.ttlS * 1000,
    issuedBy: request.issuedBy,
  });
  return (await store.getCommand(id))!;
}

/** What became of a command, as the operator is told. */
export type CommandOutcome =
  | { readonly state: 'executed'; readonly command: TerminalCommand }
  | { readonly state: 'ignored'; readonly reason: CommandIgnoreReason; readonly command: TerminalCommand }
  /** Expired without an ack: never delivered (the terminal was not connected), or delivered and not answered. */
  | { readonly state: 'expired'; readonly command: TerminalCommand };

export function outcomeOf(command: TerminalCommand): CommandOutcome | null {
  if (command.ack?.outcome === 'executed') return { state: 'executed', command };
  if (command.ack?.outcome === 'ignored') return { state: 'ignored', reason: command.ack.reason ?? 'malformed', command };
  return null;
}

export interface AwaitOptions {
  /** How often the store is read, ms. Default 200. */
  readonly pollMs?: number;
  /**
   * How long past the expiry an ack may still come, ms: a copy sent just before it is on
   * its way, and the terminal answers even an expired one. Default 3000.
   */
  readonly graceMs?: number;
  readonly now?: () => number;
}

/**
 * Waits for the terminal's ack, reading the store (the ack may arrive at any node): the
 * outcome once acknowledged, or `expired` once the expiry and its grace have passed without one.
 */
export async function awaitCommandOutcome(store: Pick<CentralStore, 'getCommand'>, id: string, options: AwaitOptions = {}): Promise<CommandOutcome> {
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 200;
  const graceMs = options.graceMs ?? 3000;
  for (;;) {
    const command = await store.getCommand(id);
    if (command === null) throw new Error(`command ${id} is not in the store`);
    const outcome = outcomeOf(command);
    if (outcome !== null) return outcome;
    if (now() > Date.parse(command.expiresAt) + graceMs) return { state: 'expired', command };
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

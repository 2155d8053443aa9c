import { cliActor } from '../../broker/access/audit.js';
import { auditFacts } from '../../broker/access/auditFacts.js';
import {
  awaitCommandOutcome,
  CommandRequestError,
  defaultCommandTtlS,
  operatorCommands,
  queueTerminalCommand,
  type CommandOutcome,
  type OperatorCommand,
} from '../../broker/commands/commandRequests.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import type { TerminalCommand } from '../../broker/store/centralStore.js';
import { audited } from '../audited.js';
import { countOption, parseOptions, requireOption, UsageError, type Command } from '../command.js';
import { provisioningLogger } from './checkpoints.js';

/**
 * `qrgate terminals command`: sends `open`, `ping` or `sync-lists` to a terminal (issue 15
 * point 6). The command is queued in the central's store, where every central node finds
 * it and delivers it to the terminal if connected there, again until the terminal
 * acknowledges it or it expires. So it needs no running central to be queued, and survives
 * one being restarted.
 *
 * By default it waits for the terminal's answer (an operator asked for a gate to open and
 * wants to know it did), up to the expiry; `--no-wait` prints the command id and returns.
 * Exit codes: 0 executed (or queued, with --no-wait); 1 the terminal ignored it (the reason
 * is printed); 3 expired without an answer (the terminal was not connected, or did not
 * answer in time). Refusals before queuing (unknown or removed terminal) exit 1, as usual.
 */

export const exitIgnored = 1;
export const exitExpired = 3;

export const run: Command = async (ctx) => {
  const { values, positionals } = parseOptions(
    ctx.argv,
    {
      'central-config': { type: 'string' },
      terminal: { type: 'string' },
      'terminal-id': { type: 'string' },
      lane: { type: 'string' },
      reason: { type: 'string' },
      ttl: { type: 'string' },
      wait: { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    true,
  );
  const name = commandName(positionals);
  if (values.terminal !== undefined && values['terminal-id'] !== undefined) throw new UsageError('give --terminal or --terminal-id, not both');
  const terminalId = values.terminal ?? requireOption(values, 'terminal-id');
  if (values.wait && values['no-wait']) throw new UsageError('give --wait or --no-wait, not both');
  const ttlS = countOption(values.ttl, 'ttl', defaultCommandTtlS);
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const logger = provisioningLogger(ctx);

  return withCentralStore(config, { logger }, async (store) => {
    const request = {
      terminalId,
      name,
      ttlS,
      issuedBy: cliActor(),
      ...(values.lane === undefined ? {} : { lane: values.lane }),
      ...(values.reason === undefined ? {} : { reason: values.reason }),
    };
    const queued = await audited(config, () => queueTerminalCommand(store, request).catch(asUsage), auditFacts.commandQueued);
    if (values['no-wait']) {
      ctx.stdout.write(values.json ? `${JSON.stringify(answer(queued, 'queued'))}\n` : `${queuedLine(queued)}\n`);
      return 0;
    }
    if (!values.json) ctx.stdout.write(`${queuedLine(queued)}; waiting for the terminal's answer\n`);
    const outcome = await awaitCommandOutcome(store, queued.id);
    ctx.stdout.write(values.json ? `${JSON.stringify(answer(outcome.command, outcome.state, outcome))}\n` : `${outcomeLine(outcome)}\n`);
    return outcome.state === 'executed' ? 0 : outcome.state === 'ignored' ? exitIgnored : exitExpired;
  });
};

function commandName(positionals: readonly string[]): OperatorCommand {
  const [name, ...rest] = positionals;
  if (name === undefined) throw new UsageError(`missing the command: ${operatorCommands.join(', ')}`);
  if (rest.length > 0) throw new UsageError(`one command at a time, not "${positionals.join(' ')}"`);
  if (!(operatorCommands as readonly string[]).includes(name)) {
    throw new UsageError(`unknown command "${name}": one of ${operatorCommands.join(', ')} (confirm and reject answer a pending scan from the guard screen)`);
  }
  return name as OperatorCommand;
}

/** A lane, reason or lifetime the terminal would refuse is the operator's typing: a usage error. */
function asUsage(err: unknown): never {
  if (err instanceof CommandRequestError) throw new UsageError(err.message);
  throw err;
}

function queuedLine(command: TerminalCommand): string {
  return `command ${command.id} (${command.name}) queued for terminal ${command.terminalId}, expires ${command.expiresAt}`;
}

function outcomeLine(outcome: CommandOutcome): string {
  const { command } = outcome;
  const who = `terminal ${command.terminalId}`;
  switch (outcome.state) {
    case 'executed':
      return `${who} executed ${command.name}${command.ack?.eventId ? ` (recorded as event ${command.ack.eventId})` : ''}`;
    case 'ignored':
      return `${who} ignored ${command.name}: ${outcome.reason}`;
    case 'expired':
      return command.attempts === 0
        ? `${command.name} expired at ${command.expiresAt} undelivered: ${who} was not connected to a central`
        : `${command.name} expired at ${command.expiresAt} unacknowledged: sent ${command.attempts} time(s), ${who} did not answer`;
  }
}

function answer(command: TerminalCommand, state: CommandOutcome['state'] | 'queued', outcome?: CommandOutcome) {
  return {
    id: command.id,
    terminalId: command.terminalId,
    name: command.name,
    state,
    ...(outcome?.state === 'ignored' ? { reason: outcome.reason } : {}),
    ...(command.ack?.eventId ? { eventId: command.ack.eventId } : {}),
    issuedAt: command.issuedAt,
    expiresAt: command.expiresAt,
    attempts: command.attempts,
  };
}

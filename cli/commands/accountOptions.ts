import { createInterface } from 'node:readline';
import type { RoleScope } from '../../broker/access/roles.js';
import { loadCentralConfig, type CentralConfig } from '../../broker/config.js';
import { requireOption, UsageError, type CliContext } from '../command.js';

/** What `qrgate users …` and `qrgate tokens …` share: the central, a role's scope, a piped password. */

export const centralOption = { 'central-config': { type: 'string' } } as const;
export const jsonOption = { json: { type: 'boolean', default: false } } as const;
export const scopeOptions = { role: { type: 'string' }, unit: { type: 'string' }, checkpoint: { type: 'string' } } as const;

export function centralConfigOf(values: Record<string, unknown>): CentralConfig {
  return loadCentralConfig(requireOption(values, 'central-config'));
}

/** `--role R [--unit U] [--checkpoint A,B]` as checkRoleScope takes them; it names what is wrong. */
export function scopeFromOptions(values: { role?: string | undefined; unit?: string | undefined; checkpoint?: string | undefined }) {
  const role = requireOption(values, 'role');
  const checkpoints = values.checkpoint
    ?.split(',')
    .map((code) => code.trim())
    .filter((code) => code !== '');
  return { role, ...(values.unit === undefined ? {} : { unit: values.unit }), ...(checkpoints === undefined ? {} : { checkpoints }) };
}

/** `role manager, unit "X"` or `role guard, checkpoints A, B`, for people. */
export function describeScope(scope: RoleScope): string {
  return [`role ${scope.role}`, ...(scope.unit === null ? [] : [`unit "${scope.unit}"`]), ...(scope.checkpoints.length === 0 ? [] : [`checkpoints ${scope.checkpoints.join(', ')}`])].join(', ');
}

/**
 * The first line of stdin, for `--password-stdin` (`printf '%s\n' "$PW" | qrgate users add …`):
 * a password on the command line would sit in the shell history and in `ps` for everyone.
 * Only the line ending is taken off; spaces are the password checker's to refuse.
 */
export async function readPasswordLine(ctx: CliContext): Promise<string> {
  const lines = createInterface({ input: ctx.stdin ?? process.stdin, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of lines) {
      if (line === '') break;
      return line;
    }
  } finally {
    lines.close();
  }
  throw new UsageError('--password-stdin: stdin gave no password (pipe one line into the command)');
}

export const shownOnce = 'shown this once and stored nowhere (the central keeps only its hash):';

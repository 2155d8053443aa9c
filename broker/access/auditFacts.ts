import type { AuditChange } from './audit.js';
import type { Checkpoint, TerminalCommand } from '../store/centralStore.js';
import type { ApiToken } from './tokens.js';
import type { User } from './users.js';

/**
 * What the audit log says about each admin change, written once for both front doors (the
 * CLI's cli/audited.ts and the API's routes), so `qrgate users add` and `POST /api/users`
 * leave the same entry. Only names and settings go into details: a password, a token, a
 * terminal secret or an enrollment QR's text never does, not even its length.
 */

export type AdminAction =
  | 'user.add'
  | 'user.set-password'
  | 'user.disable'
  | 'user.remove'
  | 'token.create'
  | 'token.revoke'
  | 'checkpoint.create'
  | 'checkpoint.update'
  | 'checkpoint.retire'
  | 'terminal.add'
  | 'terminal.remove'
  | 'terminal.rotate-secret'
  | 'terminal.enroll-qr'
  | 'terminal.command';

/** An admin change: an audit change (broker/access/audit.ts) whose action is one of the above. */
export interface AuditFact extends AuditChange {
  readonly action: AdminAction;
}

const scopeOf = (scope: { readonly role: string; readonly unit: string | null; readonly checkpoints: readonly string[] }) => ({
  role: scope.role,
  ...(scope.unit === null ? {} : { unit: scope.unit }),
  ...(scope.checkpoints.length === 0 ? {} : { checkpoints: scope.checkpoints }),
});

const checkpointSettings = (checkpoint: Checkpoint) => ({
  name: checkpoint.name,
  unit: checkpoint.unit,
  direction: checkpoint.direction,
  confirm: checkpoint.confirm,
  latitude: checkpoint.latitude,
  longitude: checkpoint.longitude,
  branch: checkpoint.branch,
});

/** The settings that differ, as [before, after]. */
export function checkpointChanges(before: Checkpoint, after: Checkpoint): Record<string, [unknown, unknown]> {
  const was = checkpointSettings(before);
  const now = checkpointSettings(after);
  return Object.fromEntries((Object.keys(now) as (keyof typeof now)[]).filter((key) => was[key] !== now[key]).map((key) => [key, [was[key], now[key]]]));
}

export const auditFacts = {
  /** Whether the password was generated says whether someone had to be handed it, not what it is. */
  userAdded: (user: User, passwordGenerated: boolean): AuditFact => ({ action: 'user.add', target: user.username, details: { ...scopeOf(user), passwordGenerated } }),
  passwordSet: (user: User, passwordGenerated: boolean): AuditFact => ({ action: 'user.set-password', target: user.username, details: { passwordGenerated } }),
  userDisabled: (user: User): AuditFact => ({ action: 'user.disable', target: user.username }),
  userRemoved: (user: User): AuditFact => ({ action: 'user.remove', target: user.username, details: scopeOf(user) }),
  tokenCreated: (token: ApiToken): AuditFact => ({
    action: 'token.create',
    target: token.tokenId,
    details: { name: token.name, ...scopeOf(token), readOnly: token.readOnly, expiresAt: token.expiresAt },
  }),
  tokenRevoked: (token: ApiToken): AuditFact => ({ action: 'token.revoke', target: token.tokenId, details: { name: token.name } }),
  checkpointCreated: (checkpoint: Checkpoint): AuditFact => ({ action: 'checkpoint.create', target: checkpoint.code, details: checkpointSettings(checkpoint) }),
  /** Each changed field as [before, after], so the log answers "who moved this gate to another unit". */
  checkpointUpdated: (before: Checkpoint, after: Checkpoint): AuditFact => ({ action: 'checkpoint.update', target: after.code, details: { changed: checkpointChanges(before, after) } }),
  checkpointRetired: (checkpoint: Checkpoint): AuditFact => ({ action: 'checkpoint.retire', target: checkpoint.code, details: { name: checkpoint.name } }),
  terminalAdded: (terminalId: string, checkpointCode: string): AuditFact => ({ action: 'terminal.add', target: terminalId, details: { checkpoint: checkpointCode } }),
  terminalRemoved: (terminalId: string): AuditFact => ({ action: 'terminal.remove', target: terminalId }),
  /** Where the new secret went (a config file or the answer), never the secret. */
  secretRotated: (terminalId: string, writtenToConfig: boolean): AuditFact => ({ action: 'terminal.rotate-secret', target: terminalId, details: { writtenToConfig } }),
  /** A command queued for a terminal (`terminals command`): what, how long it may wait, and why. */
  commandQueued: (command: TerminalCommand): AuditFact => ({
    action: 'terminal.command',
    target: command.terminalId,
    details: { id: command.id, name: command.name, expiresAt: command.expiresAt, ...(command.fields.lane === undefined ? {} : { lane: command.fields.lane }), ...(command.fields.reason === undefined ? {} : { reason: command.fields.reason }) },
  }),
  /** The target is the checkpoint: the terminal that will use the QR does not exist yet. */
  enrollQrMade: (made: { readonly checkpointCode: string; readonly expiresAt: string; readonly lists: readonly string[] }): AuditFact => ({
    action: 'terminal.enroll-qr',
    target: made.checkpointCode,
    details: { expiresAt: made.expiresAt, lists: made.lists },
  }),
} as const;

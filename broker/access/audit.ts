import { userInfo } from 'node:os';
import type { CentralDb } from '../store/sqliteSchema.js';
import { msToIso } from '../store/time.js';

/**
 * The audit log (issue 12 point 8): every state-changing action, from the HTTP API or the
 * CLI, with who, when, what and from where. Both front doors write through `recordAudit`.
 * Details name what changed, never a secret (password, token, card id) nor a raw ID number:
 * members appear by masked ID.
 */

export interface AuditEntry {
  /** `user:lan`, `token:k3j9…`, `cli:root`. */
  readonly actor: string;
  /** Dotted, stable: `checkpoint.create`, `user.disable`, `session.login`. */
  readonly action: string;
  /** What it was done to: a code, a username, a masked ID, a token id; '' when nothing in particular. */
  readonly target: string;
  readonly details?: Readonly<Record<string, unknown>>;
  /** The client address for the API, `cli` for the command line. */
  readonly source: string;
}

/** What changed, without who and from where: the part the API and the CLI share for one action. */
export type AuditChange = Pick<AuditEntry, 'action' | 'target' | 'details'>;

/** The CLI's front door: the same entry the API writes, as the OS user, from `cli`. */
export function recordCliAudit(db: CentralDb, change: AuditChange, nowMs = Date.now()): void {
  recordAudit(db, { ...change, actor: cliActor(), source: 'cli' }, nowMs);
}

export interface AuditRecord extends Required<AuditEntry> {
  readonly id: number;
  readonly at: string;
}

export function recordAudit(db: CentralDb, entry: AuditEntry, nowMs = Date.now()): void {
  db.prepare('INSERT INTO audit_log (at_ms, actor, action, target, details, source) VALUES (?, ?, ?, ?, ?, ?)').run(
    nowMs,
    entry.actor,
    entry.action,
    entry.target,
    JSON.stringify(entry.details ?? {}),
    entry.source,
  );
}

/** Who runs a CLI command: the OS user, as `cli:<name>`. */
export function cliActor(): string {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER ?? 'unknown';
  }
  return `cli:${name}`;
}

export interface AuditQuery {
  readonly limit: number;
  /** Only entries with an id below this one (the previous page's `nextBefore`). */
  readonly before?: number | undefined;
  readonly actor?: string | undefined;
  readonly action?: string | undefined;
}

/** Newest first, keyset paging on the id. */
export function searchAudit(db: CentralDb, query: AuditQuery): { readonly entries: AuditRecord[]; readonly nextBefore: number | null } {
  const where = ['1'];
  const params: Record<string, string | number> = { limit: query.limit + 1 };
  if (query.before !== undefined) {
    where.push('id < @before');
    params.before = query.before;
  }
  if (query.actor !== undefined) {
    where.push('actor = @actor');
    params.actor = query.actor;
  }
  if (query.action !== undefined) {
    where.push('action = @action');
    params.action = query.action;
  }
  const rows = db
    .prepare<Record<string, string | number>, { id: number; atMs: number; actor: string; action: string; target: string; details: string; source: string }>(
      `SELECT id, at_ms AS atMs, actor, action, target, details, source FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`,
    )
    .all(params);
  const page = rows.slice(0, query.limit);
  return {
    entries: page.map((row) => ({ id: row.id, at: msToIso(row.atMs), actor: row.actor, action: row.action, target: row.target, details: JSON.parse(row.details) as Record<string, unknown>, source: row.source })),
    nextBefore: rows.length > query.limit ? page.at(-1)!.id : null,
  };
}

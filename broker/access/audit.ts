import { userInfo } from 'node:os';
import type { RegistryDb } from '../store/sql/registryDb.js';
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
export function recordCliAudit(db: RegistryDb, change: AuditChange, nowMs = Date.now()): Promise<void> {
  return recordAudit(db, { ...change, actor: cliActor(), source: 'cli' }, nowMs);
}

export interface AuditRecord extends Required<AuditEntry> {
  readonly id: number;
  readonly at: string;
}

const insertAudit = 'INSERT INTO audit_log (at_ms, actor, action, target, details, source) VALUES (?, ?, ?, ?, ?, ?)';
const auditValues = (entry: AuditEntry, nowMs: number) => [nowMs, entry.actor, entry.action, entry.target, JSON.stringify(entry.details ?? {}), entry.source] as const;

export async function recordAudit(db: RegistryDb, entry: AuditEntry, nowMs = Date.now()): Promise<void> {
  await db.run(insertAudit, auditValues(entry, nowMs));
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
export async function searchAudit(db: RegistryDb, query: AuditQuery): Promise<{ readonly entries: AuditRecord[]; readonly nextBefore: number | null }> {
  const where = ['1 = 1'];
  const params: (string | number)[] = [];
  if (query.before !== undefined) {
    where.push('id < ?');
    params.push(query.before);
  }
  if (query.actor !== undefined) {
    where.push('actor = ?');
    params.push(query.actor);
  }
  if (query.action !== undefined) {
    where.push('action = ?');
    params.push(query.action);
  }
  const rows = await db.all<{ id: number; atMs: number; actor: string; action: string; target: string; details: string; source: string }>(
    `SELECT id, at_ms AS "atMs", actor, action, target, details, source FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
    [...params, query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  return {
    entries: page.map((row) => ({ id: row.id, at: msToIso(row.atMs), actor: row.actor, action: row.action, target: row.target, details: JSON.parse(row.details) as Record<string, unknown>, source: row.source })),
    nextBefore: rows.length > query.limit ? page.at(-1)!.id : null,
  };
}

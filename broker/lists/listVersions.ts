import type { RegistryDb } from '../store/sql/registryDb.js';
import { msToIso } from '../store/time.js';

/** One published version of a scope's list, as `list_versions` records it. */
export interface PublishedVersion {
  readonly version: number;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly entryCount: number;
  readonly publishedAt: string;
  /** Entries in the delta from the version before; null for a scope's first version. */
  readonly deltaCount: number | null;
}

export interface ScopeVersions {
  readonly scope: string;
  /** Newest first. */
  readonly versions: readonly PublishedVersion[];
}

/**
 * Every scope's published versions, for `GET /api/lists`; `scopes` limits it (a manager's).
 * A scope publishes about once a day, so a few thousand rows at most. Scopes come in code
 * point order on both engines (PostgreSQL's collation would sort `site-b` and `siteb` its own way).
 */
export async function publishedVersions(db: RegistryDb, scopes?: readonly string[]): Promise<ScopeVersions[]> {
  const rows = await db.all<{ scope: string; version: number; issuedAtMs: number; expiresAtMs: number; entryCount: number; publishedAtMs: number; deltaCount: number | null }>(
    `SELECT scope, version, issued_at_ms AS "issuedAtMs", expires_at_ms AS "expiresAtMs", entry_count AS "entryCount",
       published_at_ms AS "publishedAtMs", delta_count AS "deltaCount"
     FROM list_versions ORDER BY version DESC`,
  );
  const byScope = new Map<string, PublishedVersion[]>();
  for (const row of rows) {
    if (scopes !== undefined && !scopes.includes(row.scope)) continue;
    const versions = byScope.get(row.scope) ?? [];
    versions.push({
      version: row.version,
      issuedAt: msToIso(row.issuedAtMs),
      expiresAt: msToIso(row.expiresAtMs),
      entryCount: row.entryCount,
      publishedAt: msToIso(row.publishedAtMs),
      deltaCount: row.deltaCount,
    });
    byScope.set(row.scope, versions);
  }
  return [...byScope]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([scope, versions]) => ({ scope, versions }));
}

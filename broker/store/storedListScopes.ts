import { z } from 'zod';
import { listScopeSchema } from '../../protocol/lists/index.js';
import type { TerminalCredentials } from './centralStore.js';
import { msToIsoOrNull } from './time.js';

/**
 * A terminal's stored list scopes become ACL entries: read back through the same schema a
 * terminal's config uses, so a hand-edited row fails the connect (CONNACK 3) instead of
 * widening the ACL. Shared by both stores.
 */
const storedScopesSchema = z.array(listScopeSchema);

/** `value`: the stored JSON array, parsed. */
export function parseStoredScopes(terminalId: string, value: unknown): string[] {
  const parsed = storedScopesSchema.safeParse(value);
  if (!parsed.success) throw new Error(`terminal ${terminalId}: stored list scopes ${JSON.stringify(value)} are not list scopes`);
  return parsed.data;
}

/** A terminals row as both stores select it; `listScopes` the stored JSON array parsed, or null. */
export interface StoredTerminalRow {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly secretHash: string;
  readonly removedAtMs: number | null;
  readonly listScopes: unknown;
}

/** What the broker's authentication reads of a terminal, from either store's row. */
export function toCredentials(row: StoredTerminalRow): TerminalCredentials {
  return {
    terminalId: row.terminalId,
    checkpointCode: row.checkpointCode,
    secretHash: row.secretHash,
    removedAt: msToIsoOrNull(row.removedAtMs),
    listScopes: row.listScopes === null ? null : parseStoredScopes(row.terminalId, row.listScopes),
  };
}

import { z } from 'zod';
import { listScopeSchema } from '../../protocol/lists/index.js';

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

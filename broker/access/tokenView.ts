import type { ApiToken } from './tokens.js';

/**
 * A token as lists show it (`qrgate tokens list`, `GET /api/tokens`): what an operator
 * needs to recognise and revoke it. The token itself is never stored, so it cannot appear;
 * who created it stays in the audit log.
 */
export function tokenView(token: ApiToken) {
  return {
    tokenId: token.tokenId,
    name: token.name,
    role: token.role,
    unit: token.unit,
    checkpoints: token.checkpoints,
    readOnly: token.readOnly,
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    revokedAt: token.revokedAt,
    lastUsedAt: token.lastUsedAt,
  };
}

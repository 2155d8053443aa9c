import { z } from 'zod';

/**
 * A role and its scope in a request body (`POST /api/users`, `POST /api/tokens`): typed
 * here, bounded so a pasted blob is refused early; checkRoleScope (broker/access/roles.ts)
 * says what a role needs, for the CLI and the API alike.
 */
export const roleScopeBody = {
  role: z.string().max(50),
  unit: z.string().max(1000).optional(),
  checkpoints: z.array(z.string().max(100)).max(100).optional(),
};

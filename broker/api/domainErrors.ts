import { HttpError, type ApiErrorCode } from './http.js';

/**
 * The provisioning functions the CLI and the API share throw errors with a `code` and a
 * message written for a person (AccountError, CheckpointProvisioningError, MemberError,
 * StoreError, …). The CLI prints the message; the API answers it with the status below.
 * One table, so the two front doors never disagree on what a refusal is.
 */
const statusByCode: Readonly<Record<string, readonly [number, ApiErrorCode]>> = {
  // input a person can fix
  'user-invalid': [400, 'bad-request'],
  'token-invalid': [400, 'bad-request'],
  'role-scope-invalid': [400, 'bad-request'],
  'password-weak': [400, 'bad-request'],
  'member-invalid': [400, 'bad-request'],
  'invalid-option': [400, 'bad-request'],
  'invalid-terminal-id': [400, 'bad-request'],
  'invalid-field': [400, 'bad-request'],
  'invalid-url': [400, 'bad-request'],
  'invalid-scope': [400, 'bad-request'],
  length: [400, 'bad-request'],
  'non-digit': [400, 'bad-request'],
  'check-digit': [400, 'bad-request'],
  'card-invalid': [400, 'bad-request'],
  'invalid-checkpoint-fields': [400, 'bad-request'],
  'invalid-config': [400, 'bad-request'],
  // nothing there
  'user-unknown': [404, 'not-found'],
  'token-unknown': [404, 'not-found'],
  'member-unknown': [404, 'not-found'],
  'unknown-member': [404, 'not-found'],
  'checkpoint-unknown': [404, 'not-found'],
  'terminal-unknown': [404, 'not-found'],
  'card-unknown': [404, 'not-found'],
  'no-members': [404, 'not-found'],
  'no-cards': [404, 'not-found'],
  // the state forbids it
  'user-exists': [409, 'conflict'],
  'checkpoint-exists': [409, 'conflict'],
  'terminal-exists': [409, 'conflict'],
  'checkpoint-retired': [409, 'conflict'],
  'terminal-removed': [409, 'conflict'],
  'card-revoked': [409, 'conflict'],
  'member-exists': [409, 'conflict'],
  // lists publish: a scope with no one in it is refused rather than published empty
  'empty-scope': [409, 'conflict'],
  'concurrent-publish': [409, 'conflict'],
  'concurrent-issue': [409, 'conflict'],
  // rare enough to retry by hand
  'no-free-code': [503, 'unavailable'],
};

/** The HttpError for a shared function's refusal; null for anything else (a bug: answered 500 and logged). */
export function domainHttpError(err: unknown): HttpError | null {
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  const mapped = statusByCode[code];
  return mapped === undefined ? null : new HttpError(mapped[0], mapped[1], err.message);
}
